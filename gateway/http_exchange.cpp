#include "gateway/detail/http_exchange.hpp"

#include <algorithm>
#include <cctype>

namespace sealcast::broker {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

std::optional<std::string_view> http_request::query_value(std::string_view name) const {
  for (const auto& [key, value] : query) {
    if (key == name) return std::string_view(value);
  }
  return std::nullopt;
}

std::optional<std::string_view> http_request::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

std::string_view http_request::param(std::string_view name) const {
  const auto it = params.find(name);
  return it == params.end() ? std::string_view{} : std::string_view(it->second);
}

void responder::respond(unsigned status, std::string content_type, std::string body, header_list extra) const {
  if (ex_) ex_->respond(detail::outcome{status, std::move(content_type), std::move(body), std::move(extra), nullptr});
}

std::shared_ptr<event_stream> responder::stream(header_list extra) const {
  if (!ex_) {
    auto dead = std::make_shared<detail::sse_stream>(std::weak_ptr<detail::response_sink>{}, 0);
    dead->mark_closed();
    return dead;
  }
  return ex_->stream(std::move(extra));
}

namespace detail {

bool sse_stream::write(std::string chunk) {
  if (!is_open()) return false;
  auto sink = sink_.lock();
  if (!sink) {
    mark_closed();
    return false;
  }
  const std::size_t n = chunk.size();
  if (queued_.fetch_add(n, std::memory_order_relaxed) + n > limit_) {
    queued_.fetch_sub(n, std::memory_order_relaxed);
    if (open_.exchange(false, std::memory_order_acq_rel)) sink->end_stream(true);  // a stuck reader
    return false;
  }
  sink->push_chunk(std::move(chunk));
  return true;
}

void sse_stream::close() {
  if (!open_.exchange(false, std::memory_order_acq_rel)) return;
  if (auto sink = sink_.lock()) sink->end_stream(false);
}

http_exchange::~http_exchange() {
  if (done_.exchange(true)) return;
  if (auto sink = sink_.lock()) {
    // Every holder of the responder is gone unanswered: a query whose actor went away, a task
    // dropped by a stopping worker. The request may be retried, so 503 rather than 500.
    sink->deliver(seq_, outcome{503, "application/json",
                                "{\"error\":\"the request was dropped before it was answered; try again\"}\n",
                                {},
                                nullptr});
  }
}

void http_exchange::respond(outcome o) {
  if (done_.exchange(true)) return;
  if (auto sink = sink_.lock()) sink->deliver(seq_, std::move(o));
}

std::shared_ptr<event_stream> http_exchange::stream(header_list extra) {
  auto s = std::make_shared<sse_stream>(sink_, stream_limit_);
  if (done_.exchange(true)) {
    s->mark_closed();
    return s;
  }
  if (auto sink = sink_.lock()) {
    sink->deliver(seq_, outcome{200, "text/event-stream", {}, std::move(extra), s});
  } else {
    s->mark_closed();
  }
  return s;
}

}  // namespace detail
}  // namespace sealcast::broker
