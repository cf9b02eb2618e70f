// Writes the generated part of the seed corpus (fuzz/corpus/<target>/gen-*): real frames from
// the protocol codec's writers, real records from the persistence encoders, the sample config and
// variants, and admin requests. Run from the repository root after a change to the formats:
//
//   build-fuzz/fuzz/make_corpus fuzz/corpus
//
// Files not named gen-* (hand-written seeds, inputs that once crashed a target) are left alone.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "config/schema.hpp"
#include "persistence/codec.hpp"
#include "persistence/keys.hpp"
#include "protocol/codec.hpp"
#include "tests/persistence/sample_records.hpp"
#include "tests/protocol/sample_frames.hpp"

using namespace sealcast;
namespace fs = std::filesystem;

namespace {

fs::path root;

void write(std::string_view target, std::string_view name, std::string_view content) {
  const fs::path dir = root / target;
  fs::create_directories(dir);
  std::ofstream out(dir / ("gen-" + std::string(name)), std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
}

void write(std::string_view target, std::string_view name, const bytes& content) {
  write(target, name, std::string_view(reinterpret_cast<const char*>(content.data()), content.size()));
}

// ---- client frames (what the broker parses) -----------------------------------------------------

void client_frames() {
  using namespace protocol;
  using namespace protocol::test;
  const auto rid = [](std::uint64_t n) { return request_id::from_number(n); };
  auto w = [](std::string_view name, const std::string& json) { write("client_frame", name, json); };

  client::hello hello{array_of<32>(1), array_of<32>(2), array_of<64>(3), array_of<64>(4), "alice"};
  w("hello", to_json(hello));
  hello.name.reset();
  w("hello-anonymous", to_json(hello));
  client::create_group cg;
  cg.rid = rid(1);
  cg.name = "team \"blue\" \xc3\xa9\xe2\x82\xac";
  cg.policy = group_policy::open;
  cg.group = id_of(0xa1);
  cg.max_members = 50;
  cg.members = {id_of(0x02), id_of(0x03)};
  cg.custody = key_custody::client;
  w("create_group", to_json(cg));
  client::create_group plain;
  plain.rid = request_id::from_string("c-1");
  plain.name = "plain";
  w("create_group-minimal", to_json(plain));
  w("join", to_json(client::join{rid(2), id_of(0xa1), 3, array_of<64>(9)}));
  w("join-broker", to_json(client::join{rid(2), id_of(0xa1), std::nullopt, std::nullopt}));
  w("leave", to_json(client::leave{rid(3), id_of(0xa1), 3, array_of<64>(10)}));
  w("add_member", to_json(client::add_member{rid(4), id_of(0xa1), id_of(0x04), member_role::admin, 3, array_of<64>(11)}));
  w("add_member-broker", to_json(client::add_member{rid(4), id_of(0xa1), id_of(0x04), member_role::member, {}, {}}));
  w("remove_member", to_json(client::remove_member{rid(5), id_of(0xa1), id_of(0x04), 4, array_of<64>(12)}));
  w("set_role", to_json(client::set_role{rid(6), id_of(0xa1), id_of(0x04), member_role::admin, {}, {}}));
  w("group_info", to_json(client::group_info{rid(7), id_of(0xa1)}));
  w("list_groups", to_json(client::list_groups{request_id::from_json_unchecked("1.50")}));
  w("presence", to_json(client::presence{rid(9), id_of(0xa1)}));
  w("list_users", to_json(client::list_users{rid(10)}));
  w("user_keys", to_json(client::user_keys{rid(11), id_of(0x02)}));
  w("keys", to_json(client::keys{rid(12), id_of(0xa1), 1}));
  w("manifests", to_json(client::manifests{rid(13), id_of(0xa1), 1, 256}));
  w("publish", to_json(sample_publish()));
  auto xchacha = sample_publish();
  xchacha.alg = aead_alg::xchacha20_poly1305;
  xchacha.nonce = bytes_of(24, 5);
  xchacha.ct = bytes_of(16, 0);
  w("publish-xchacha", to_json(xchacha));
  w("ack", to_json(client::ack{id_of(0xa1), 12}));
  w("fetch", to_json(client::fetch{rid(14), id_of(0xa1), 1, 100}));
  w("direct", to_json(client::direct{rid(15), id_of(0x02), bytes_of(48, 1), array_of<64>(13)}));
  w("ack_direct", to_json(client::ack_direct{id_of(0x5e)}));
  w("rekey", to_json(sample_rekey()));

  // Hand-made malformed frames: each reaches one refusal of the reader.
  w("bad-no-rid", R"({"type":"group_info","group":"a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"})");
  w("bad-rid-object", R"({"type":"group_info","rid":{},"group":"a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"})");
  w("bad-rid-float", R"({"type":"keys","rid":1e400,"group":"a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1","from_epoch":1})");
  w("bad-duplicate-key", R"({"type":"ack","group":"a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1","seq":1,"seq":2})");
  w("bad-upper-id", R"({"type":"ack","group":"A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1","seq":1})");
  w("bad-seq-float", R"({"type":"ack","group":"a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1","seq":1.0})");
  w("bad-seq-negative", R"({"type":"ack","group":"a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1","seq":-1})");
  w("bad-base64", R"({"type":"direct","rid":"d","to":"02020202020202020202020202020202","sealed":"AAA=A","sig":"AA=="})");
  w("bad-unknown-type", R"({"type":"subscribe","rid":1})");
  w("bad-deep", std::string(40, '[') + std::string(40, ']'));
  w("bad-not-object", R"(["type","hello"])");
  w("bad-escaped-key", R"({"type":"ack","gr\u006fup":"a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1","seq":1,"\u0072id":7})");
  w("bad-wrapped-key", R"({"type":"rekey","rid":1,"group":"a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1","epoch":2,)"
                       R"("key_id":"0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c","alg":"aes-256-gcm","changes":0,"sig":"",)"
                       R"("wrapped":{"zz":"AAAA"}})");
}

// ---- server frames (what the client library parses) ---------------------------------------------

void server_frames() {
  using namespace protocol;
  using namespace protocol::test;
  const auto rid = [](std::uint64_t n) { return request_id::from_number(n); };
  auto w = [](std::string_view name, const std::string& json) { write("server_frame", name, json); };

  server::challenge ch{protocol_version, id_of(0xb0), array_of<32>(1), array_of<32>(2)};
  w("challenge", to_json(ch));
  server::welcome welcome{id_of(0x01), {{id_of(0xa1), "team", 3, member_role::owner},
                                        {id_of(0xa2), "caf\xc3\xa9", 1, member_role::member}}};
  w("welcome", to_json(welcome));
  w("welcome-empty", to_json(server::welcome{id_of(0x01), {}}));
  w("error", to_json(server::error{rid(4), errc::not_member, "not a member of the group"}));
  w("error-no-rid", to_json(server::error{std::nullopt, errc::auth_failed, "bad signature"}));
  w("error-string-rid", to_json(server::error{request_id::from_string("x\"1"), errc::rate_limited, "slow down"}));
  w("key", to_json(sample_key()));
  w("key-broker", to_json(sample_broker_key()));
  w("message", to_json(sample_message()));
  w("direct", to_json(server::direct{id_of(0x5f), id_of(0x02), bytes_of(48, 3), array_of<64>(7), 1700000000999}));
  w("member", to_json(server::member{id_of(0xa1), id_of(0x04), member_action::removed, 5}));
  w("presence", to_json(server::presence{id_of(0xa1), id_of(0x04), true}));
  w("rekey_request", to_json(sample_rekey_request()));

  // Every ok result, as the broker writes it.
  w("ok-empty", make_ok(rid(1)));
  w("ok-create_group", make_ok(rid(2), create_group_result{id_of(0xa1), 1}));
  w("ok-epoch", make_ok(rid(3), epoch_result{4}));
  group_info_result gi{"team", group_policy::open, key_custody::client, 3, id_of(0x0c),
                       {{id_of(0x01), member_role::owner, true}, {id_of(0x02), member_role::member, false}}, 17};
  w("ok-group_info", make_ok(rid(4), gi));
  w("ok-list_groups", make_ok(rid(5), list_groups_result{{{id_of(0xa1), "team", 3, member_role::admin, 2}}}));
  w("ok-presence", make_ok(rid(6), presence_result{{id_of(0x01), id_of(0x02)}}));
  w("ok-list_users", make_ok(rid(7), list_users_result{{{id_of(0x01), "alice", true}, {id_of(0x02), "", false}}}));
  w("ok-user_keys", make_ok(rid(8), user_keys_result{array_of<32>(1), array_of<32>(2), array_of<64>(3)}));
  w("ok-keys", make_ok(rid(9), keys_result{{sample_key(), sample_broker_key()}}));
  w("ok-manifests", make_ok(rid(10), manifests_result{{sample_manifest_entry()}, 4}));
  w("ok-manifests-last", make_ok(rid(10), manifests_result{{sample_manifest_entry()}, std::nullopt}));
  w("ok-publish", make_ok(rid(11), publish_result{id_of(0x5e), 12, 1700000000123}));
  w("ok-fetch", make_ok(rid(12), fetch_result{{sample_message()}}));
  w("ok-direct", make_ok(rid(13), direct_result{id_of(0x5f), 1700000000999}));
  w("ok-float-rid", make_ok(request_id::from_json_unchecked("1.50")));

  // Batches, as the broker coalesces pushes and the welcome's keys.
  const std::vector<std::string> items{to_json(welcome), to_json(sample_key()), to_json(sample_message()),
                                       to_json(server::presence{id_of(0xa1), id_of(0x02), false})};
  w("batch", make_batch(items));
  w("batch-empty", R"({"type":"batch","items":[]})");
  w("bad-batch-nested", R"({"type":"batch","items":[{"type":"batch","items":[]}]})");
  w("bad-unknown-type", R"({"type":"subscribed","group":"a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"})");
  w("bad-ok-no-rid", R"({"type":"ok","epoch":3})");
}

// ---- persistence records (what the store decodes) -------------------------------------------------

// The selector byte of each decoder in fuzz_codec.cpp's `kinds`.
enum selector : std::uint8_t {
  user = 0, group, member, epoch, message, locator, direct, outcome, event, user_group, wrapped,
  k_outcome, k_id, k_event, k_member, k_user_group, k_epoch, k_wrapped, k_message, k_direct
};

void record(std::string_view name, selector s, const bytes& value) {
  bytes out{static_cast<std::uint8_t>(s)};
  out.insert(out.end(), value.begin(), value.end());
  write("codec", name, out);
}

void codec_records() {
  using namespace persistence;
  using namespace persistence::test;
  record("user", user, codec::encode(sample_user(1)));
  record("group-client", group, codec::encode(sample_group(1)));
  auto broker_group = sample_group(2);
  broker_group.custody = key_custody::broker;
  broker_group.pending_changes = {broker_change(change_action::add, make_id(2, 1), 3),
                                  broker_change(change_action::remove, make_id(3, 1), 0, make_id(1, 1))};
  record("group-broker", group, codec::encode(broker_group));
  record("member", member, codec::encode(sample_member(make_id(1, 2), make_id(1, 1), member_role::owner)));
  record("epoch-client", epoch, codec::encode(sample_epoch(make_id(1, 2), 3)));
  auto e = sample_epoch(make_id(1, 2), 2);
  e.custody = key_custody::broker;
  e.has_issuer_pk = false;
  e.issuer_pk = {};
  e.changes = {broker_change(change_action::join, make_id(4, 1), 3, make_id(4, 1))};
  record("epoch-broker", epoch, codec::encode(e));
  record("message", message, codec::encode(sample_message(make_id(1, 2), 7)));
  record("locator-group", locator, codec::encode(message_locator{message_kind::group, make_id(1, 2), 7, 0}));
  record("locator-settled", locator,
         codec::encode(message_locator{message_kind::settled, make_id(1, 2), 7, 1'700'000'000'000}));
  record("direct", direct, codec::encode(sample_direct(make_id(1, 1), 3)));
  message_outcome o{1'700'000'000'000, make_id(7, 3), make_id(1, 2), 7, make_id(1, 1), 1, 1'699'999'999'000,
                    message_outcome_status::expired, 3, 5, 1};
  record("outcome", outcome, codec::encode(o));
  record("event", event, codec::encode(sample_event(2)));
  auto bare = sample_event(3);
  bare.group.reset();
  bare.message.reset();
  record("event-bare", event, codec::encode(bare));
  record("user_group", user_group, codec::encode_user_group(member_role::admin));
  record("wrapped_key", wrapped, codec::encode_wrapped_key(filled<80>(1)));
  record("key-outcome", k_outcome, keys::encode(keys::outcome_key{1'700'000'000'000, make_id(7, 3)}));
  record("key-id", k_id, keys::id_key(make_id(1, 2)));
  record("key-event", k_event, keys::event_key(42));
  record("key-member", k_member, keys::encode(keys::member_key{make_id(1, 2), make_id(1, 1)}));
  record("key-user_group", k_user_group, keys::encode(keys::user_group_key{make_id(1, 1), make_id(1, 2)}));
  record("key-epoch", k_epoch, keys::encode(keys::epoch_key{make_id(1, 2), 3}));
  record("key-wrapped", k_wrapped, keys::encode(keys::wrapped_key_key{make_id(1, 2), 3, make_id(1, 1)}));
  record("key-message", k_message, keys::encode(keys::message_key{make_id(1, 2), 7}));
  record("key-direct", k_direct, keys::encode(keys::direct_key{make_id(1, 1), 3}));
}

// ---- configuration ----------------------------------------------------------------------------

void configs() {
  auto w = [](std::string_view name, std::string_view text) { write("config", name, text); };
  w("sample", sample_toml());
  w("empty", "");
  w("small", "[gateway]\nlisten = \"0.0.0.0:7800\"\n\n[admin]\nlisten = \"[::1]:0\"\ntoken = \"s3cret\"\n"
             "\n[pubsub]\nmax_members = 5\nepoch_grace_ms = 0\n\n[encryption]\ndefault_algorithm = "
             "\"chacha20-poly1305\"\nallowed_algorithms = [\"chacha20-poly1305\"]\n\n[log]\nlevel = \"debug\"\n"
             "format = \"json\"\n");
  w("tls", "[gateway]\ntls_cert = \"/etc/sealcast/cert.pem\"\ntls_key = \"/etc/sealcast/key.pem\"\n");
  w("inline-tables", "broker = { data_dir = '/var/lib/sealcast', worker_threads = 4 }\n"
                     "storage.sync = false\nstorage.write_buffer_mb = 16\n"
                     "events.persist = [\"group_created\", \"key_rotated\"]\n");
  w("errors", "[pubsub]\nmax_member = 5\nmax_message_ttl = \"1h\"\n[gatway]\nlisten = 7800\n[limits]\n"
              "max_inflight = -1\n");
  w("overrides", std::string("[pubsub]\nmax_members = 5\n") + '\0' + "gateway.listen=127.0.0.1:0" + '\0' +
                     "encryption.allowed_algorithms=aes-256-gcm, chacha20-poly1305" + '\0' +
                     "admin.token=\"tok\\u00e9n\"" + '\0' + "storage.sync=false" + '\0' + "log.level=warn");
  w("override-rules", std::string("[admin]\ntls_cert = \"c.pem\"\n") + '\0' + "admin.tls_key=k.pem" + '\0' +
                          "admin.listen=0.0.0.0:7801" + '\0' + "events.persist=[\"direct_sent\"]");
  w("override-bad", std::string() + '\0' + "pubsub.max_memebers=3" + '\0' + "nosuch.key=1" + '\0' + "=");
}

// ---- admin requests ---------------------------------------------------------------------------

void admin_requests() {
  const std::string auth = "Authorization: Bearer fuzz-token\r\n";
  const std::string g1 = "02000000000000000000000000000001";
  const std::string g3 = "02000000000000000000000000000003";
  const std::string u1 = "01000000000000000000000000000001";
  const std::string m1 = "03010000000000000000000000000001";  // group 1's message seq 1
  const std::string m2 = "03010000000000000000000000000002";  // settled
  const std::string d1 = "04000000000000000000000000000001";  // a direct
  auto get = [&](std::string_view name, const std::string& target, const std::string& extra = "") {
    write("admin_http", name, "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:7801\r\n" + auth + extra + "\r\n");
  };
  get("healthz", "/healthz");
  get("readyz", "/readyz");
  get("stats", "/admin/stats");
  get("metrics", "/metrics");
  get("groups", "/admin/groups?limit=2&custody=client&policy=open");
  get("groups-after", "/admin/groups?after=" + g1 + "&limit=1");
  get("groups-bad", "/admin/groups?limit=0&after=xyz");
  get("group", "/admin/groups/" + g1);
  get("group-bad", "/admin/groups/not-an-id");
  get("user-groups", "/admin/users/" + u1 + "/groups");
  get("message-group", "/admin/messages/" + m1);
  get("message-settled", "/admin/messages/" + m2);
  get("message-direct", "/admin/messages/" + d1);
  get("events", "/admin/events?since=3&limit=5&type=message_published,member_joined&group=" + g1);
  get("events-user", "/admin/events?user=" + u1 + "&since=18446744073709551615");
  get("events-stream", "/admin/events/stream?since=30&heartbeat_ms=100", "Accept: text/event-stream\r\n");
  get("events-stream-resume", "/admin/events/stream", "Last-Event-ID: 38\r\n");
  get("dashboard", "/admin/");
  get("dashboard-js", "/admin/dashboard.js", "If-None-Match: \"0000000000000000\"\r\n");
  get("dashboard-redirect", "/admin");
  get("encoded", "/admin/%67roups/" + g1 + "?x=%zz&y=a+b#frag");
  get("not-found", "/admin/nothing");
  write("admin_http", "rotate",
        "POST /admin/groups/" + g3 + "/rotate HTTP/1.1\r\nHost: localhost\r\n" + auth +
            "Origin: http://127.0.0.1:7801\r\nContent-Length: 0\r\n\r\n");
  write("admin_http", "rotate-client",
        "POST /admin/groups/" + g1 + "/rotate HTTP/1.1\r\nHost: localhost\r\n" + auth +
            "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
  write("admin_http", "method-not-allowed", "DELETE /admin/stats HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n");
  write("admin_http", "no-token", "GET /admin/stats HTTP/1.1\r\nHost: x\r\n\r\n");
  write("admin_http", "wrong-token", "GET /admin/stats HTTP/1.1\r\nAuthorization: Bearer nope\r\n\r\n");
  write("admin_http", "pipelined",
        "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /admin/groups/" + g3 + " HTTP/1.1\r\n" + auth +
            "\r\nGET /admin/events?limit=1 HTTP/1.1\r\n" + auth + "Connection: close\r\n\r\n");
  write("admin_http", "http10", "GET /admin/stats HTTP/1.0\r\n" + auth + "\r\n");
  write("admin_http", "chunked",
        "POST /admin/groups/" + g3 + "/rotate HTTP/1.1\r\n" + auth +
            "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  write("admin_http", "absolute-target", "GET http://127.0.0.1:7801/admin/stats HTTP/1.1\r\n" + auth + "\r\n");
  write("admin_http", "large-body",
        "POST /admin/groups/" + g3 + "/rotate HTTP/1.1\r\n" + auth + "Content-Length: 4096\r\n\r\n" +
            std::string(64, 'x'));
  write("admin_http", "partial", "GET /admin/stats HTTP/1.1\r\nHost: 127.0.0");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR (normally fuzz/corpus)\n", argv[0]);
    return 2;
  }
  root = argv[1];
  client_frames();
  server_frames();
  codec_records();
  configs();
  admin_requests();
  return 0;
}
