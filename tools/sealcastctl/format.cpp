#include "tools/sealcastctl/format.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <initializer_list>

#include <boost/json.hpp>

namespace sealcast::ctl {

namespace json = boost::json;

namespace {

/// The first of `names` present in the object `v`, or null.
const json::value* field(const json::value& v, std::initializer_list<std::string_view> names) {
  const auto* o = v.if_object();
  if (!o) return nullptr;
  for (auto name : names)
    if (const auto* f = o->if_contains(name)) return f;
  return nullptr;
}

/// The list an answer carries: the answer itself, or its `key` (or "items") member.
const json::array* list_of(const json::value& v, std::string_view key) {
  if (const auto* a = v.if_array()) return a;
  if (const auto* f = field(v, {key, "items"})) return f->if_array();
  return nullptr;
}

std::string trim_right(std::string s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

/// "next: X" under a paged list, with the command that continues it.
std::string next_line(const json::value& v, std::string_view command) {
  const auto* next = field(v, {"next"});
  if (!next || next->is_null()) return {};
  auto cursor = text(next);
  if (cursor.empty() || cursor == "-") return {};
  return "(more: sealcastctl " + std::string(command) + " " + cursor + ")\n";
}

void render_into(const json::object& o, std::string& out, int indent);

/// Fields that hold a time (milliseconds or seconds since the epoch) by their name.
bool is_time_field(std::string_view key) {
  return key == "ts" || key == "created" || key == "joined" || key == "last_seen" || key == "first_seen" ||
         key == "expires" || key == "epoch_created" || key.ends_with("_ts") || key.ends_with("_at");
}

/// A field's value as text, times as dates.
std::string cell_text(std::string_view key, const json::value* v) {
  // Zero or small values are "never" or not times at all: shown as they are.
  if (v && v->is_number() && v->to_number<double>() >= 1e9 && is_time_field(key)) return when(v);
  return text(v);
}

/// An array of objects as a table whose columns are the keys in first-seen order.
std::string array_table(const json::array& a, int indent) {
  std::vector<std::string> keys;
  for (const auto& e : a)
    if (const auto* o = e.if_object())
      for (const auto& kv : *o)
        if (std::find(keys.begin(), keys.end(), kv.key()) == keys.end()) keys.emplace_back(kv.key());
  table t(keys);
  for (const auto& e : a) {
    std::vector<std::string> row;
    for (const auto& k : keys) row.push_back(cell_text(k, field(e, {k})));
    t.add(std::move(row));
  }
  std::string out;
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  auto s = t.str();
  std::size_t pos = 0;
  while (pos < s.size()) {
    const auto nl = s.find('\n', pos);
    out += pad + s.substr(pos, nl - pos + 1);
    pos = nl == std::string::npos ? s.size() : nl + 1;
  }
  return out;
}

bool is_object_array(const json::value& v) {
  const auto* a = v.if_array();
  return a && !a->empty() && std::all_of(a->begin(), a->end(), [](const json::value& e) { return e.is_object(); });
}

void render_into(const json::object& o, std::string& out, int indent) {
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  std::size_t width = 0;
  for (const auto& kv : o)
    if (!kv.value().is_object() && !is_object_array(kv.value())) width = std::max(width, kv.key().size());
  // Scalars first, aligned, then the sections, so a reader sees the summary at the top.
  for (const auto& kv : o) {
    if (kv.value().is_object() || is_object_array(kv.value())) continue;
    std::string key(kv.key());
    key.resize(width, ' ');
    out += trim_right(pad + key + "  " + cell_text(kv.key(), &kv.value())) + "\n";
  }
  for (const auto& kv : o) {
    if (const auto* sub = kv.value().if_object()) {
      out += pad + std::string(kv.key()) + (sub->empty() ? ": -" : "") + "\n";
      render_into(*sub, out, indent + 2);
    } else if (is_object_array(kv.value())) {
      out += pad + std::string(kv.key()) + "\n";
      out += array_table(kv.value().get_array(), indent + 2);
    }
  }
}

}  // namespace

std::string table::str() const {
  std::vector<std::size_t> widths(headers_.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  };
  measure(headers_);
  for (const auto& r : rows_) measure(r);
  auto line = [&](const std::vector<std::string>& row) {
    std::string s;
    for (std::size_t i = 0; i < widths.size(); ++i) {
      std::string c = i < row.size() ? row[i] : "";
      if (i + 1 < widths.size()) c.resize(widths[i], ' ');
      s += c;
      if (i + 1 < widths.size()) s += "  ";
    }
    return trim_right(std::move(s)) + "\n";
  };
  std::vector<std::string> upper;
  for (auto h : headers_) {
    std::transform(h.begin(), h.end(), h.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    upper.push_back(std::move(h));
  }
  std::string out = line(upper);
  for (const auto& r : rows_) out += line(r);
  return out;
}

std::string text(const json::value* v) {
  if (!v || v->is_null()) return "-";
  if (const auto* s = v->if_string()) return std::string(*s);
  if (const auto* b = v->if_bool()) return *b ? "yes" : "no";
  if (const auto* a = v->if_array()) {
    // A list of scalars reads best as a comma-separated list.
    if (std::all_of(a->begin(), a->end(), [](const json::value& e) { return !e.is_structured(); })) {
      if (a->empty()) return "-";
      std::string s;
      for (const auto& e : *a) s += (s.empty() ? "" : ",") + text(&e);
      return s;
    }
  }
  if (const auto* d = v->if_double()) {
    // Latencies and the like: three decimals at most, no exponent, no trailing zeros.
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f", *d);
    std::string s(buf);
    while (s.ends_with('0')) s.pop_back();
    if (s.ends_with('.')) s.pop_back();
    return s;
  }
  return json::serialize(*v);
}

std::string when(const json::value* ts) {
  if (!ts || ts->is_null()) return "-";
  double seconds = 0;
  if (ts->is_int64()) {
    seconds = static_cast<double>(ts->get_int64());
  } else if (ts->is_uint64()) {
    seconds = static_cast<double>(ts->get_uint64());
  } else if (ts->is_double()) {
    seconds = ts->get_double();
  } else {
    return text(ts);
  }
  const bool millis = seconds > 1e11;  // past the year 5138 in seconds: it is milliseconds
  if (millis) seconds /= 1000;
  const auto whole = static_cast<std::time_t>(seconds);
  std::tm tm{};
  if (!gmtime_r(&whole, &tm)) return text(ts);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  std::string out(buf);
  if (millis) {
    char ms[8];
    std::snprintf(ms, sizeof ms, ".%03d", static_cast<int>(std::fmod(seconds, 1.0) * 1000));
    out += ms;
  }
  return out + "Z";
}

std::string render_object(const json::value& v) {
  if (const auto* o = v.if_object()) {
    std::string out;
    render_into(*o, out, 0);
    return out;
  }
  if (is_object_array(v)) return array_table(v.get_array(), 0);
  return text(&v) + "\n";
}

std::string render_groups(const json::value& v) {
  const auto* groups = list_of(v, "groups");
  if (!groups) return render_object(v);
  // The list may or may not carry pending counts; a column of dashes says nothing.
  const bool pending = std::any_of(groups->begin(), groups->end(), [](const json::value& g) {
    return field(g, {"pending_messages", "pending"});
  });
  std::vector<std::string> headers = {"id", "name", "epoch", "members", "custody", "policy"};
  if (pending) headers.emplace_back("pending");
  table t(std::move(headers));
  for (const auto& g : *groups) {
    std::string members = text(field(g, {"member_count"}));
    if (members == "-")
      if (const auto* m = field(g, {"members"}); m && m->is_array()) members = std::to_string(m->get_array().size());
    t.add({text(field(g, {"id", "group", "group_id"})), text(field(g, {"name"})), text(field(g, {"epoch"})), members,
           text(field(g, {"custody"})), text(field(g, {"policy"})), text(field(g, {"pending_messages", "pending"}))});
  }
  if (t.empty()) return "no groups\n" + next_line(v, "groups --after");
  return t.str() + next_line(v, "groups --after");
}

std::string render_user_groups(const json::value& v) {
  const auto* groups = list_of(v, "groups");
  if (!groups) return render_object(v);
  table t({"group", "name", "role", "members"});
  for (const auto& g : *groups) {
    t.add({text(field(g, {"id", "group", "group_id"})), text(field(g, {"name"})), text(field(g, {"role"})),
           text(field(g, {"member_count", "members"}))});
  }
  if (t.empty()) return "no groups\n";
  return t.str();
}

std::string render_events(const json::value& v) {
  const auto* events = list_of(v, "events");
  if (!events) return render_object(v);
  table t({"seq", "time", "type", "group", "user", "message", "data"});
  for (const auto& e : *events) {
    const auto* data = field(e, {"data"});
    const bool no_data = !data || data->is_null() || (data->is_object() && data->get_object().empty());
    t.add({text(field(e, {"seq"})), when(field(e, {"ts"})), text(field(e, {"type"})), text(field(e, {"group"})),
           text(field(e, {"user"})), text(field(e, {"message"})), no_data ? "-" : text(data)});
  }
  if (t.empty()) return "no events\n" + next_line(v, "events --since");
  return t.str() + next_line(v, "events --since");
}

std::string event_line(const json::value& e) {
  auto pad = [](std::string s, std::size_t n) {
    if (s.size() < n) s.resize(n, ' ');
    return s;
  };
  std::string out = pad(text(field(e, {"seq"})), 6) + "  " + pad(when(field(e, {"ts"})), 24) + "  " +
                    pad(text(field(e, {"type"})), 18);
  for (auto name : {"group", "user", "message"}) {
    const auto* f = field(e, {name});
    if (f && !f->is_null()) out += std::string("  ") + name + "=" + text(f);
  }
  if (const auto* data = field(e, {"data"});
      data && !data->is_null() && !(data->is_object() && data->get_object().empty()))
    out += "  " + text(data);
  return trim_right(std::move(out));
}

}  // namespace sealcast::ctl
