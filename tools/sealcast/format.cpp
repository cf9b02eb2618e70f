#include "tools/sealcast/format.hpp"

#include <algorithm>
#include <sstream>

#include <boost/json.hpp>

namespace sealcast::cli {

namespace json = boost::json;

namespace {

/// Length of the UTF-8 sequence starting at s[i] if it is valid, else 0.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t n = 0;
  if (c >= 0xc2 && c <= 0xdf) n = 2;
  else if (c >= 0xe0 && c <= 0xef) n = 3;
  else if (c >= 0xf0 && c <= 0xf4) n = 4;
  else return 0;
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return 0;
  // C1 controls (U+0080..U+009F) are escape sequences too on many terminals.
  if (n == 2 && c == 0xc2 && static_cast<unsigned char>(s[i + 1]) < 0xa0) return 0;
  return n;
}

std::string pad(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

}  // namespace

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
      ++i;
    } else if (c == '\t') {
      out.push_back(' ');
      ++i;
    } else if (const auto n = c >= 0x80 ? utf8_length(text, i) : 0; n > 0) {
      out.append(text.substr(i, n));
      i += n;
    } else {
      out.push_back('?');
      ++i;
    }
  }
  return out;
}

std::string display_name(const std::string& name, const id16& user) {
  if (!name.empty()) return printable(name);
  return user.hex().substr(0, 8);
}

std::string message_line(const std::string& group_name, const std::string& sender_name, const std::string& text,
                         bool verified, const std::string& warning) {
  std::string line = "[" + group_name + "] " + sender_name + ": " + printable(text);
  if (!verified) line += "  !! UNVERIFIED: " + printable(warning.empty() ? "signature did not verify" : warning);
  return line;
}

std::string message_json(const client::group_message& m, const std::string& group_name,
                         const std::string& sender_name) {
  json::object o;
  o["group"] = m.group.hex();
  o["group_name"] = group_name;
  o["seq"] = m.seq;
  o["sender"] = m.sender.hex();
  o["sender_name"] = sender_name;
  o["ts"] = m.ts;
  o["text"] = m.text();
  o["verified"] = m.verified;
  if (!m.verified) o["warning"] = m.warning;
  return json::serialize(o);
}

std::string direct_json(const client::direct_message& m, const std::string& sender_name) {
  json::object o;
  o["direct"] = true;
  o["id"] = m.id.hex();
  o["sender"] = m.from.hex();
  o["sender_name"] = sender_name;
  o["ts"] = m.ts;
  o["text"] = m.text();
  o["verified"] = m.verified;
  if (!m.verified) o["warning"] = m.warning;
  return json::serialize(o);
}

std::string warning_line(const std::string& group_name, const client::warning_event& w) {
  return "!! WARNING" + (group_name.empty() ? std::string{} : " " + group_name) + ": " +
         std::string(client::to_string(w.kind)) + ": " + printable(w.message);
}

bool is_serious(client::warning_kind k) noexcept {
  return k != client::warning_kind::gap && k != client::warning_kind::rekey_failed &&
         k != client::warning_kind::state_file;
}

std::string membership_text(const client::membership_event& ev, const std::string& user, const std::string& by) {
  const std::string by_part = ev.by ? " by " + by : std::string{};
  std::string text;
  switch (ev.action) {
    case change_action::add:
      if (ev.epoch == 1 && ev.role == member_role::owner) return user + " created the group";
      text = user + " was added" + by_part;
      if (ev.role == member_role::admin) text += " as admin";
      break;
    case change_action::remove:
      text = user + " was removed" + by_part;
      break;
    case change_action::role:
      text = user + " was made " + std::string(role_name(ev.role.value_or(member_role::member))) + by_part;
      break;
    case change_action::join:
      text = user + " joined";
      break;
    case change_action::leave:
      text = user + " left";
      break;
  }
  if (!ev.verified) text += " (the broker says; unverifiable)";
  return text;
}

std::string_view role_name(member_role r) noexcept {
  switch (r) {
    case member_role::owner: return "owner";
    case member_role::admin: return "admin";
    case member_role::member: return "member";
  }
  return "member";
}

std::string groups_table(const std::vector<client::group_summary>& groups, const id16& current) {
  std::size_t name_width = 4;
  for (const auto& g : groups) name_width = std::max(name_width, printable(g.name).size());
  std::ostringstream out;
  const bool marks = !current.is_zero();
  out << (marks ? "  " : "") << pad("ID", 34) << pad("NAME", name_width + 2) << pad("ROLE", 8) << pad("MEMBERS", 9)
      << "EPOCH\n";
  for (const auto& g : groups) {
    if (marks) out << (g.group == current ? "* " : "  ");
    out << pad(g.group.hex(), 34) << pad(printable(g.name), name_width + 2) << pad(std::string(role_name(g.role)), 8)
        << pad(std::to_string(g.member_count), 9) << g.epoch << "\n";
  }
  return out.str();
}

std::string groups_json(const std::vector<client::group_summary>& groups) {
  json::array a;
  for (const auto& g : groups) {
    a.push_back(json::object{{"group", g.group.hex()},
                             {"name", g.name},
                             {"role", role_name(g.role)},
                             {"members", g.member_count},
                             {"epoch", g.epoch}});
  }
  return json::serialize(a) + "\n";
}

std::string users_table(const std::vector<client::user_info>& users, const id16& me) {
  std::size_t name_width = 4;
  for (const auto& u : users) name_width = std::max(name_width, display_name(u.name, u.user).size());
  std::ostringstream out;
  out << pad("NAME", name_width + 2) << pad("ID", 34) << "STATUS\n";
  for (const auto& u : users) {
    out << pad(display_name(u.name, u.user), name_width + 2) << pad(u.user.hex(), 34)
        << (u.online ? "online" : "offline") << (u.user == me ? " (you)" : "") << "\n";
  }
  return out.str();
}

}  // namespace sealcast::cli
