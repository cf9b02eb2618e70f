#pragma once

// Where the passphrase of an identity comes from: $SEALCAST_PASSPHRASE, else a prompt on the
// terminal without echo.

#include <string>

namespace sealcast::cli {

/// The passphrase for opening `file`; asks twice (and compares) when `confirm` and prompting.
/// Throws failure{exit_identity} when there is neither the variable nor a terminal.
[[nodiscard]] std::string read_passphrase(const std::string& file, bool confirm);

/// Overwrites a string's characters before it is dropped.
void wipe(std::string& s) noexcept;

}  // namespace sealcast::cli
