#include "cluster/nats.hpp"

#include <string>

namespace sealcast::cluster {

namespace {

errc code_of(natsStatus s, jsErrCode js_code) {
  switch (js_code) {
    case JSStreamWrongLastSequenceErr:
    case JSStreamWrongLastMsgIDErr:
      return errc::conflict;
    case JSNoMessageFoundErr:
    case JSStreamNotFoundErr:
      return errc::not_found;
    case JSClusterNotAvailErr:
    case JSClusterNotLeaderErr:
    case JSClusterNoPeersErr:
    case JSNotEnabledErr:  // cnats' spelling of "no responders" on a JetStream request
      return errc::unavailable;
    default:
      break;
  }
  switch (s) {
    case NATS_TIMEOUT:
    case NATS_NO_RESPONDERS:
    case NATS_NO_SERVER:
    case NATS_IO_ERROR:
    case NATS_CONNECTION_CLOSED:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_STALE_CONNECTION:
    case NATS_NOT_YET_CONNECTED:
      return errc::unavailable;
    case NATS_NOT_FOUND:
      return errc::not_found;
    default:
      return errc::internal;
  }
}

std::chrono::milliseconds::rep ms(std::chrono::milliseconds d) { return d.count(); }

}  // namespace

error nats_error(natsStatus s, std::string_view what, jsErrCode js_code) {
  std::string text(what);
  text += ": ";
  text += natsStatus_GetText(s);
  // The thread's last error holds the server's description of a JetStream refusal ("wrong last
  // sequence: 7"); it is only meaningful right after the failed call, which is now.
  natsStatus last_status = NATS_OK;
  const char* last = nats_GetLastError(&last_status);
  if (last != nullptr && *last != '\0' && last_status == s) {
    text += " (";
    text += last;
    text += ")";
  }
  if (s == NATS_NO_RESPONDERS) {
    // cnats reports this as JSNotEnabledErr; on 2.9.10 it is what a publish gets while the
    // stream has no leader (only the leader subscribes to the stream's subjects).
    text += " (nobody listens on the subject: no stream leader right now, or no such stream)";
  } else if (js_code != 0) {
    text += " [jetstream error " + std::to_string(static_cast<int>(js_code)) + "]";
  }
  return error{code_of(s, js_code), std::move(text)};
}

nats_client::nats_client(nats_ptr<natsConnection> nc, nats_ptr<jsCtx> js, std::chrono::milliseconds timeout)
    : nc_(std::move(nc)), js_(std::move(js)), request_timeout_(timeout) {}

result<nats_client> nats_client::connect(const connect_options& o) {
  if (o.servers.empty()) return error{errc::config_error, "nats: no server URL to connect to"};
  natsOptions* raw_opts = nullptr;
  if (natsStatus s = natsOptions_Create(&raw_opts); s != NATS_OK) return nats_error(s, "nats: options");
  nats_ptr<natsOptions> opts(raw_opts);

  std::vector<const char*> urls;
  urls.reserve(o.servers.size());
  for (const auto& u : o.servers) urls.push_back(u.c_str());

  natsStatus s = natsOptions_SetServers(opts.get(), urls.data(), static_cast<int>(urls.size()));
  if (s == NATS_OK && !o.name.empty()) s = natsOptions_SetName(opts.get(), o.name.c_str());
  if (s == NATS_OK) s = natsOptions_SetTimeout(opts.get(), ms(o.connect_timeout));
  if (s == NATS_OK) s = natsOptions_SetAllowReconnect(opts.get(), true);
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts.get(), o.max_reconnect);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts.get(), ms(o.reconnect_wait));
  if (s == NATS_OK) s = natsOptions_SetPingInterval(opts.get(), ms(o.ping_interval));
  if (s == NATS_OK) s = natsOptions_SetMaxPingsOut(opts.get(), o.max_pings_out);
  // Requests fail at once while disconnected instead of waiting out their timeout in the
  // reconnect buffer: the caller learns "unavailable" and retries on its own schedule.
  if (s == NATS_OK) s = natsOptions_SetFailRequestsOnDisconnect(opts.get(), true);
  if (s == NATS_OK && o.retry_initial_connect)
    s = natsOptions_SetRetryOnFailedConnect(opts.get(), true, nullptr, nullptr);
  if (s != NATS_OK) return nats_error(s, "nats: options");

  natsConnection* raw_nc = nullptr;
  s = natsConnection_Connect(&raw_nc, opts.get());
  // NATS_NOT_YET_CONNECTED: retry_initial_connect is on and the connection goes on in the background.
  if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) return nats_error(s, "nats: connect");
  nats_ptr<natsConnection> nc(raw_nc);

  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = ms(o.request_timeout);
  jsCtx* raw_js = nullptr;
  if (s = natsConnection_JetStream(&raw_js, nc.get(), &jo); s != NATS_OK) return nats_error(s, "nats: jetstream");
  return nats_client(std::move(nc), nats_ptr<jsCtx>(raw_js), o.request_timeout);
}

std::string nats_client::connected_url() const {
  char buf[256] = {};
  if (natsConnection_GetConnectedUrl(nc_.get(), buf, sizeof buf) != NATS_OK) return {};
  return buf;
}

bool nats_client::connected() const noexcept { return natsConnection_Status(nc_.get()) == NATS_CONN_STATUS_CONNECTED; }

std::string header_value(natsMsg* msg, const char* key) {
  const char* v = nullptr;
  if (natsMsgHeader_Get(msg, key, &v) != NATS_OK || v == nullptr) return {};
  return v;
}

}  // namespace sealcast::cluster
