#include "actors/admin_queries.hpp"

#include <caf/send.hpp>

#include "actors/messages.hpp"
#include "actors/services.hpp"

namespace sealcast::actors {

void query_group(const services& svc, const id16& group, group_snapshot_done done) {
  if (!svc.directory) return done(std::nullopt);
  caf::anon_send(svc.directory, group_query{group, std::move(done)});
}

void query_message(const services& svc, const id16& group, std::uint64_t seq, const id16& id,
                   message_snapshot_done done) {
  if (!svc.directory) return done(std::nullopt);
  caf::anon_send(svc.directory, message_query{group, seq, id, std::move(done)});
}

void rotate_group(const services& svc, const id16& group, std::string reason, rotate_done done) {
  if (!svc.directory) return done(0, error{errc::internal, "the broker is not running"});
  caf::anon_send(svc.directory, rotate_atom::value, group, rotate_request{std::move(reason), std::move(done)});
}

}  // namespace sealcast::actors
