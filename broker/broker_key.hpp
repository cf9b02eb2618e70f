#pragma once

#include <filesystem>

#include "common/error.hpp"
#include "crypto/identity.hpp"

namespace sealcast::broker {

/// The broker's own identity (Ed25519 signs broker-custody manifests), kept in
/// `<data_dir>/broker.key` (mode 0600, 64 bytes: Ed25519 seed || X25519 scalar). Generated and
/// written atomically on first start. A file rather than a RocksDB row so that its permissions
/// are its own and no memtable or block cache keeps an unwiped copy.
[[nodiscard]] result<crypto::identity> load_or_create_broker_key(const std::filesystem::path& data_dir);

}  // namespace sealcast::broker
