#pragma once

// The edge between Sealcast and the NATS C client (cnats 3.4.1): ownership of its handles and
// its errors turned into Sealcast error values. Everything above this file speaks result<T>.

#include <nats/nats.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace sealcast::cluster {

/// Frees any cnats handle with the function cnats pairs with it.
struct nats_free {
  void operator()(natsOptions* p) const noexcept { natsOptions_Destroy(p); }
  void operator()(natsConnection* p) const noexcept { natsConnection_Destroy(p); }  // closes first
  void operator()(jsCtx* p) const noexcept { jsCtx_Destroy(p); }
  void operator()(kvStore* p) const noexcept { kvStore_Destroy(p); }
  void operator()(kvEntry* p) const noexcept { kvEntry_Destroy(p); }
  void operator()(natsMsg* p) const noexcept { natsMsg_Destroy(p); }
  void operator()(jsPubAck* p) const noexcept { jsPubAck_Destroy(p); }
  void operator()(jsStreamInfo* p) const noexcept { jsStreamInfo_Destroy(p); }
  void operator()(jsAccountInfo* p) const noexcept { jsAccountInfo_Destroy(p); }
  void operator()(natsSubscription* p) const noexcept { natsSubscription_Destroy(p); }
};

/// A cnats handle with its owner: `nats_ptr<natsMsg>`, `nats_ptr<kvStore>`, ...
template <class T>
using nats_ptr = std::unique_ptr<T, nats_free>;

/// The Sealcast error for a failed cnats call: `what` says which operation, the text carries
/// cnats' own status, its last error (the server's description for JetStream refusals) and
/// the JetStream error code when there is one. Timeouts and lost connections map to
/// errc::unavailable, a lost compare-and-set (wrong last sequence) to errc::conflict, "no
/// message" and "no stream" to errc::not_found, the rest to errc::internal.
[[nodiscard]] error nats_error(natsStatus s, std::string_view what, jsErrCode js_code = static_cast<jsErrCode>(0));

/// How a node connects. The timeouts are longer than a stream leader's re-election after a
/// kill -9 (~5.2 s measured on loopback, CLUSTER.md), so a request in flight during a failover
/// waits for the new leader instead of failing the caller.
struct connect_options {
  std::vector<std::string> servers;                 ///< nats://host:port, any number; all are tried
  std::string name;                                 ///< connection name shown in the server's monitoring
  std::chrono::milliseconds connect_timeout{2000};  ///< per server, per attempt
  std::chrono::milliseconds request_timeout{8000};  ///< JetStream API calls and publish acks
  std::chrono::milliseconds reconnect_wait{250};    ///< between attempts on the same server
  std::chrono::milliseconds ping_interval{2000};    ///< dead-server detection: ping_interval x max_pings_out
  int max_pings_out = 3;
  int max_reconnect = -1;              ///< -1: reconnect forever (a node outlives any one nats-server)
  bool retry_initial_connect = false;  ///< true: connect() returns at once and connects in the background
};

/// One connection to the NATS cluster with its JetStream context. Thread-safe as cnats is:
/// any thread may publish or request on it. Move-only.
class nats_client {
 public:
  /// Connects to any of `o.servers` and opens JetStream; errc::unavailable when none answers.
  [[nodiscard]] static result<nats_client> connect(const connect_options& o);

  /// The raw handles, for the other files of cluster/ (the connection outlives the context).
  [[nodiscard]] natsConnection* connection() const noexcept { return nc_.get(); }
  [[nodiscard]] jsCtx* jetstream() const noexcept { return js_.get(); }
  /// The JetStream request timeout this client was opened with.
  [[nodiscard]] std::chrono::milliseconds request_timeout() const noexcept { return request_timeout_; }
  /// The URL of the server currently connected to ("" while reconnecting).
  [[nodiscard]] std::string connected_url() const;
  /// True while the connection is up (not reconnecting, not closed).
  [[nodiscard]] bool connected() const noexcept;

 private:
  nats_client(nats_ptr<natsConnection> nc, nats_ptr<jsCtx> js, std::chrono::milliseconds timeout);

  // Declared in this order so the context, which retains the connection, is destroyed first.
  nats_ptr<natsConnection> nc_;
  nats_ptr<jsCtx> js_;
  std::chrono::milliseconds request_timeout_;
};

/// The value of header `key` on `msg`, or "" when it has none.
[[nodiscard]] std::string header_value(natsMsg* msg, const char* key);

}  // namespace sealcast::cluster
