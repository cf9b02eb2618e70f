#pragma once

// Private to actors/: the state of one group actor and the operations its behaviour calls.
// group_actor.cpp dispatches requests and owns the membership changes; group_delivery.cpp
// the in-flight window, acks, retries and cleanup; group_keys.cpp epochs, key frames, broker
// rotation and client-custody rekeys.

#include <caf/stateful_actor.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/group.hpp"
#include "actors/messages.hpp"
#include "actors/quotas.hpp"
#include "actors/services.hpp"
#include "crypto/group_context.hpp"
#include "persistence/records.hpp"
#include "protocol/client_frames.hpp"
#include "protocol/server_frames.hpp"

namespace sealcast::actors {

/// One online connection of a member: how far its backlog stream has got.
struct member_stream {
  std::uint64_t sent_seq = 0;            ///< highest seq offered to this connection
  std::uint64_t start_epoch = 0;         ///< current when it came online: that key was sent then
  std::vector<std::uint64_t> keys_sent;  ///< older epochs whose key frame it got since
  bool waiting = false;                  ///< the send window was full: a wake-up is registered
};

/// A member as the group actor tracks it.
struct member_state {
  persistence::member_record rec;      ///< role, cursor (acked_seq), joined_seq
  persistence::key32 kx_pk{};          ///< for wrapping keys and manifests
  persistence::key32 sign_pk{};        ///< for checking client-custody manifests it signs
  std::vector<connection_ptr> conns;   ///< online connections
  std::unordered_map<std::uint64_t, member_stream> streams;  ///< by connection id
  std::uint64_t sent_seq = 0;          ///< highest seq offered to any current connection
  std::uint64_t last_send_ms = 0;      ///< when the unacked window was last (re)sent
  std::uint32_t attempts = 0;          ///< sends of the oldest unacked delivery
  bool dirty = false;                  ///< cursor changed since it was last persisted
  bool pump_queued = false;            ///< in group_state::pumps: its streams run at the next pump
};

/// A stored message that is not deleted yet.
struct pending_message {
  std::uint64_t seq = 0;
  id16 id;
  id16 sender;
  std::uint64_t epoch = 0;
  std::uint64_t ts_ms = 0;
  std::uint64_t accepted_us = 0;             ///< steady clock at acceptance, for latency
  std::shared_ptr<const std::string> frame;  ///< serialized delivery, cached; null when evicted
  bool durable = false;                      ///< committed: may be delivered
  bool dead = false;                         ///< the write failed: never delivered
  std::uint32_t attempts = 0;                ///< writes to recipients (first sends, backlogs, retries)
};

/// How start_epoch ends: the epoch to report, and the error when the change was not stored.
/// On an error nothing in the actor has changed: the caller answers `internal` and sends nothing
/// else. On success the caller applies its change to memory (member map, roles) first.
using epoch_done = std::function<void(std::uint64_t epoch, std::optional<error> err)>;

/// A message's recipients (members of the group) by what happened to their delivery, each in
/// user id order.
struct recipient_split {
  std::vector<id16> delivered;  ///< acknowledged it
  std::vector<id16> failed;     ///< ran out of delivery attempts
  std::vector<id16> unacked;    ///< neither yet: pending while stored, expired once settled
};

struct group_state;
using group_actor_t = group_actor::stateful_base<group_state>;

/// Everything one group actor holds.
struct group_state {
  static inline const char* name = "sealcast.group";

  ~group_state() {
    if (!svc) return;
    svc->frame_cache_bytes.fetch_sub(static_cast<std::int64_t>(cached_bytes), std::memory_order_relaxed);
    if (loaded) svc->counters.groups_loaded.fetch_sub(1, std::memory_order_relaxed);
  }

  group_actor_t* self = nullptr;
  std::shared_ptr<services> svc;
  persistence::group_record rec;
  std::map<id16, member_state> members;  ///< sorted by id bytes: the manifest order
  std::map<std::uint64_t, persistence::epoch_record> epochs;  ///< cache of loaded epochs
  /// Who holds a stored key of the current and the pending epoch (missing_keys of the admin
  /// snapshot): kept as keys are stored, so a snapshot reads nothing from the store.
  std::map<std::uint64_t, std::set<id16>> key_holders;
  /// Per epoch, its key frame serialized once up to the member-specific `wrapped` value.
  std::map<std::uint64_t, std::string> key_templates;
  /// Per epoch, its `manifests` entry serialized once.
  std::map<std::uint64_t, std::string> manifest_entries;
  std::deque<pending_message> window;  ///< seqs [window_base, rec.next_seq)
  std::uint64_t window_base = 1;
  /// Seqs whose frame is cached in the window (the lowest is evicted first), and their bytes,
  /// bounded per group and, through services::frame_cache_bytes, for the whole broker.
  std::set<std::uint64_t> cached;
  std::size_t cached_bytes = 0;
  bool loaded = false;

  // Fan-out: members whose streams run at the next pump_atom, and the frames staged for their
  // connections (`staged`), handed to each io shard in one post when the pumps have run. Publishes that
  // became durable in one group commit therefore reach each connection as one write.
  std::vector<id16> pumps;
  bool pump_scheduled = false;
  broker::outbox staged;

  // Writes in flight: what to do when each becomes durable.
  std::uint64_t next_token = 0;
  std::unordered_map<std::uint64_t, std::function<void(const write_done&)>> writes;
  bool changing = false;                   ///< a membership/epoch change is being committed
  std::deque<client_request> stash;        ///< requests held while `changing`
  bool cursor_flush_scheduled = false;
  /// The member whose stored row the change being committed rewrites (remove, role): no cursor
  /// flush may write its old state meanwhile, so flushes and cleanups wait for finish_change.
  std::optional<id16> change_subject;
  bool flush_after_change = false;
  bool clean_after_change = false;
  /// The creation write failed: the group does not exist; every request is refused.
  bool defunct = false;
  /// Recipients whose delivery ran out of attempts, by seq of a stored message (mirrors the
  /// delivery_failures family; what a message's outcome says `failed` for).
  std::map<std::uint64_t, std::vector<id16>> failed_deliveries;
  /// Seqs of publishes whose write failed, not yet given back (publish_not_stored).
  std::set<std::uint64_t> unstored_seqs;

  // Unloading when idle: messages received over the group's route (from the directory and from
  // connections directly: actors/group_routes.hpp), retry ticks found idle in a row, and whether
  // the directory has been offered this actor's stop (nothing is started until it answers or
  // another message comes).
  std::uint64_t received = 0;
  std::uint32_t idle_ticks = 0;
  bool idle_offered = false;
  membership_quota quota;  ///< limits.members_added_per_minute, limits.joins_per_minute

  // Client custody: the admin asked for the pending epoch, and when.
  std::optional<id16> rekey_asked;
  std::vector<id16> rekey_tried;

  // -- group_actor.cpp -------------------------------------------------------------------------
  /// Loads the group from the store (returns false when it does not exist).
  bool load(const id16& group);
  void handle(client_request& req);
  void create(group_creation& c);
  void finish_change();
  /// A message from the directory arrived: counted, and the actor is not idle.
  void touched();
  /// Offers the directory to stop this actor once it has been idle for two retry ticks.
  void maybe_offer_idle();
  void admit_member(const connection_ptr& conn, const protocol::request_id& rid, const persistence::user_record& user,
                    persistence::member_role role, std::string reason, persistence::change_record change);
  void remove_member(const connection_ptr& conn, const protocol::request_id& rid, const id16& user,
                     protocol::member_action action, persistence::change_record change);
  void change_role(const connection_ptr& conn, const protocol::request_id& rid, const id16& user,
                   persistence::member_role role, persistence::change_record change);
  void reply(const connection_ptr& conn, std::string json) const;
  void reply_error(const connection_ptr& conn, const protocol::request_id& rid, errc code,
                   std::string message) const;
  /// Queues a write; `then` runs in the actor when it is durable (or failed).
  void commit(persistence::write_batch batch, std::function<void(const write_done&)> then);
  [[nodiscard]] member_state* find_member(const id16& user);
  [[nodiscard]] bool is_admin(const id16& user) const;
  void push_to_members(const std::shared_ptr<const std::string>& frame, const id16* except = nullptr) const;

  // -- group_delivery.cpp ----------------------------------------------------------------------
  void accept_publish(client_request& req, protocol::client::publish& p);
  void on_durable_publish(std::uint64_t seq, const connection_ptr& conn, const protocol::request_id& rid,
                          const write_done& w);
  void on_ack(const id16& user, std::uint64_t seq);
  /// Streams each of `m`'s connections the deliveries it has not had yet, in seq order and within
  /// max_inflight, as far as the connection's send window allows; a full window resumes on
  /// stream_ready.
  /// Queues `m`'s streams for the next pump_atom (run_pumps), where they run together.
  void pump(member_state& m);
  /// Offers `m`'s connections what is due now (staged in `staged`: flush it after).
  void pump_now(member_state& m);
  /// pump_atom: runs the queued pumps and hands the staged frames to the shards.
  void run_pumps();
  /// pump for one connection; returns whether something was sent.
  bool pump_stream(member_state& m, const connection_ptr& conn);
  /// A connection's window drained again.
  void on_stream_ready(const id16& user, std::uint64_t conn_id);
  /// `restore`: online since before this actor loaded (no key frame, no presence push).
  void on_online(const id16& user, const connection_ptr& conn, bool restore = false);
  void on_offline(const id16& user, const connection_ptr& conn);
  void retry_tick();
  void clean_tick();
  void flush_cursors();
  void schedule_cursor_flush();
  void fetch(client_request& req, const protocol::client::fetch& f);
  void skip_settled(member_state& m);
  /// Whether `m` is a recipient of `e`: a member of the message's epoch, not its sender, and
  /// joined no later than the message (PROTOCOL.md section 7).
  [[nodiscard]] bool is_recipient(const pending_message& e, const member_state& m);
  /// Whether `user` is in the manifest of epoch `e`.
  [[nodiscard]] bool epoch_has(std::uint64_t e, const id16& user);
  [[nodiscard]] pending_message* entry(std::uint64_t seq);
  [[nodiscard]] std::shared_ptr<const std::string> frame_of(pending_message& e);
  /// Keeps `f` as `e`'s cached frame if the caches have room (evicting this group's oldest).
  void cache_frame(pending_message& e, std::shared_ptr<const std::string> f);
  /// Drops `e`'s cached frame.
  void uncache(pending_message& e);
  /// Pops the window's first entry (deleted or dead), releasing its cached frame.
  void pop_window();
  void delete_delivered();

  // -- group_admin.cpp -------------------------------------------------------------------------
  /// The group as the admin API shows it.
  [[nodiscard]] group_snapshot snapshot();
  /// A message still in the window, or nullopt.
  [[nodiscard]] std::optional<message_snapshot> message_status(std::uint64_t seq, const id16& id);
  /// Recipients of `e` that have not acknowledged it.
  [[nodiscard]] std::uint32_t remaining_recipients(const pending_message& e);
  /// What is kept of `e` once it is deleted (message_outcomes), settled now. `how` says why it
  /// is deleted: `delivered` (every cursor passed it) or `expired` (the TTL: recipients that had
  /// not acknowledged it are expired); the stored status comes from the recipients' outcomes.
  /// Forgets the message's failed deliveries (the outcome holds them).
  [[nodiscard]] persistence::message_outcome outcome_of(const pending_message& e,
                                                        persistence::message_outcome_status how);
  /// `e`'s recipients by outcome.
  [[nodiscard]] recipient_split split_recipients(const pending_message& e);
  /// Records that `user`'s delivery of `e` ran out of attempts (memory and delivery_failures).
  void note_failed_delivery(const pending_message& e, const id16& user, std::uint32_t attempts);
  /// A publish whose write failed: answers `internal`, and gives back what it took (its seq when
  /// it is the newest, the epoch's message count) so that nothing of it is visible later.
  void publish_not_stored(std::uint64_t seq, const connection_ptr& conn, const protocol::request_id& rid,
                          const std::string& why);

  // -- group_keys.cpp --------------------------------------------------------------------------
  /// Starts the next epoch after a change: broker custody generates, wraps and signs a key for
  /// `next_members` (the member set after the change, in user id order); client custody queues
  /// the changes and asks an admin. `extra` is committed in the same write. `done` runs once the
  /// write is durable (or failed) with the epoch to report; nothing changes in memory before.
  /// `stored`, when set, runs first once the write is durable, before the epoch's event and
  /// key frames (a creation's own events come before its first key_rotated).
  void start_epoch(std::string reason, bool removal, std::vector<persistence::change_record> changes,
                   std::vector<persistence::manifest_member> next_members, persistence::write_batch extra,
                   epoch_done done, std::function<void()> stored = nullptr);
  /// Reads who holds a key of epoch `e` into key_holders (at load).
  void load_key_holders(std::uint64_t e);
  /// Drops key_holders of epochs that are neither current nor pending.
  void prune_key_holders();
  void on_rekey(client_request& req, protocol::client::rekey& r);
  void ask_rekey();
  void on_rekey_deadline(std::uint64_t epoch);
  void maybe_rotate_by_policy();
  void rotate(rotate_request& r);
  [[nodiscard]] const persistence::epoch_record* epoch_rec(std::uint64_t e);
  /// The key frame of epoch `e` for `user`, or nullptr when the user has no key of it.
  [[nodiscard]] std::shared_ptr<const std::string> key_frame(std::uint64_t e, const id16& user);
  /// The key frame of epoch `e` around a wrapped key already at hand.
  [[nodiscard]] std::shared_ptr<const std::string> key_frame(std::uint64_t e, const wrapped_key& wrapped);
  void send_keys(const id16& user, const connection_ptr& conn, std::uint64_t from_epoch);
  void keys_request(client_request& req, const protocol::client::keys& k);
  void manifests_request(client_request& req, const protocol::client::manifests& m);
  /// The member set of epoch `e` as its manifest lists it (empty for epoch 0).
  [[nodiscard]] crypto::member_set epoch_set(std::uint64_t e);
  /// Whether `user` is owner or admin in the current epoch's manifest: who may commit and, in
  /// client custody, propose (live roles may already include uncommitted changes).
  [[nodiscard]] bool is_epoch_admin(const id16& user);
  /// Client custody: checks a change request's proposal (docs/protocol.md 6.3) and returns the
  /// change to queue; broker custody: the change, unsigned. An error to answer otherwise.
  [[nodiscard]] result<persistence::change_record> proposed_change(const client_request& req, crypto::change_action action,
                                                                   const id16& subject, const key32& kx_pk,
                                                                   std::uint8_t role, std::optional<std::uint64_t> epoch,
                                                                   const std::optional<sig64>& proposal);
  [[nodiscard]] std::vector<persistence::manifest_member> manifest_members() const;
};

// -- group_keys.cpp: the stored, wire and crypto forms of the group context ---------------------
[[nodiscard]] crypto::change to_crypto(const persistence::change_record& c);
[[nodiscard]] protocol::change to_wire(const persistence::change_record& c);
[[nodiscard]] persistence::change_record make_change(crypto::change_action action, const id16& user, const key32& kx_pk,
                                                     std::uint8_t role, const std::optional<id16>& by);
[[nodiscard]] crypto::member_set member_set_of(const std::vector<persistence::manifest_member>& members);
[[nodiscard]] std::vector<crypto::change> crypto_changes(const std::vector<persistence::change_record>& changes);
/// The manifest an epoch record describes (hashes recomputed from its members and changes).
[[nodiscard]] crypto::manifest manifest_of(const persistence::epoch_record& er);

}  // namespace sealcast::actors
