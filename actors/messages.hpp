#pragma once

// Messages between the gateway bridge and the actors, and among actors. CAF 0.17 atoms name the
// operations; the payload structs travel only inside this process, so they are declared as
// unsafe (never serialized) message types.

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "actors/admin_queries.hpp"
#include "gateway/connection.hpp"
#include "common/bytes.hpp"
#include "persistence/records.hpp"
#include "protocol/client_frames.hpp"

namespace sealcast::actors {

using connection_ptr = std::shared_ptr<broker::connection>;

// Defined in actors/group_routes.hpp, which includes this header through the group actor's
// interface (actors/group.hpp).
struct group_link;
struct connection_routes;

// Atoms (at most 10 characters each).
using online_atom = caf::atom_constant<caf::atom("online")>;
using offline_atom = caf::atom_constant<caf::atom("offline")>;
using durable_atom = caf::atom_constant<caf::atom("durable")>;
using retry_atom = caf::atom_constant<caf::atom("retry")>;
using clean_atom = caf::atom_constant<caf::atom("clean")>;
using rotate_atom = caf::atom_constant<caf::atom("rotate")>;
using deadline_atom = caf::atom_constant<caf::atom("deadline")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using backlog_atom = caf::atom_constant<caf::atom("backlog")>;
using idle_atom = caf::atom_constant<caf::atom("idle")>;
using pump_atom = caf::atom_constant<caf::atom("pump")>;
using step_atom = caf::atom_constant<caf::atom("step")>;      ///< the next page of a sweep (reaper, scheduler)
using sweep_atom = caf::atom_constant<caf::atom("sweep")>;    ///< the next step of the directs' expiry sweep
using listen_atom = caf::atom_constant<caf::atom("listen")>;  ///< subscribe_events, to the event bus
using unlisten_atom = caf::atom_constant<caf::atom("unlisten")>;

/// A parsed request from an authenticated connection: sent straight to a group actor over its
/// route, or through the directory (which forwards group frames and answers the rest).
struct client_request {
  connection_ptr conn;
  id16 user;
  protocol::client_frame frame;
  /// The user a join or add_member brings in, looked up by the directory (which knows users
  /// before their record is committed).
  std::optional<persistence::user_record> subject;
  /// Set on a group frame sent through the directory: it forwards the frame, hands the link the
  /// group's route and uncounts the frame (actors/group_routes.hpp).
  std::shared_ptr<group_link> link;
};

/// A new connection proved its identity (`hello` verified by the bridge).
struct hello_done {
  connection_ptr conn;
  persistence::user_record user;  ///< keys and name from hello; first/last seen filled by the directory
  std::shared_ptr<connection_routes> routes;  ///< made ready once the user's groups know the connection
};

/// A connection of an authenticated user closed.
struct conn_closed {
  connection_ptr conn;
  id16 user;
};

/// Creation parameters for a new group actor (from `create_group`).
struct group_creation {
  connection_ptr conn;
  protocol::request_id rid;
  persistence::group_record group;
  std::vector<std::pair<persistence::user_record, persistence::member_role>> members;  ///< owner first
};

/// Tells a group actor that a user is online on `conn` (send its backlog) or went offline.
struct presence_change {
  id16 user;
  connection_ptr conn;
  bool online = false;
  /// Online since before this group actor was loaded: its keys are current and the others were
  /// told, so only its stream is set up.
  bool restore = false;
};

/// A group actor that was just loaded asks which of its members are online (the directory
/// answers with a `restore` presence_change per connection).
struct members_online {
  id16 group;
  std::vector<id16> users;
};

/// A connection's send window drained (connection::when_ready): the stream to it resumes.
struct stream_ready {
  id16 user;
  std::uint64_t conn = 0;  ///< connection id
};

/// Asks a group actor to rotate now; `done` gets the new (or requested) epoch or an error.
/// The reaper's page of groups with stored messages, for the directory to tell each to clean.
struct clean_groups {
  std::vector<id16> groups;
};

struct rotate_request {
  std::string reason;
  rotate_done done;
};

/// Asks for a group's snapshot (admin API); routed by the directory to the group actor.
struct group_query {
  id16 group;
  group_snapshot_done done;
};

/// Asks a group actor about one of its stored messages (admin API).
struct message_query {
  id16 group;
  std::uint64_t seq = 0;
  id16 id;
  message_snapshot_done done;
};

/// A storage commit finished for a group actor's pending write `token`.
struct write_done {
  std::uint64_t token = 0;
  bool ok = true;
  std::string error;
};

}  // namespace sealcast::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sealcast::id16)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sealcast::actors::client_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sealcast::actors::hello_done)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sealcast::actors::conn_closed)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sealcast::actors::group_creation)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sealcast::actors::presence_change)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sealcast::actors::stream_ready)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sealcast::actors::members_online)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sealcast::actors::rotate_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sealcast::actors::clean_groups)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sealcast::actors::write_done)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sealcast::actors::group_query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sealcast::actors::message_query)
