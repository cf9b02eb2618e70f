#pragma once

// How the chat client shows things: message lines for people, JSON lines for scripts, tables.

#include <string>
#include <string_view>
#include <vector>

#include "client/sealcast_client.hpp"

namespace sealcast::cli {

/// Text from other users made safe for a terminal: control characters (escape sequences
/// included) become '?', valid UTF-8 stays as it is.
[[nodiscard]] std::string printable(std::string_view text);

/// A name to show for a user: the display name, else the first 8 hex digits of the id.
[[nodiscard]] std::string display_name(const std::string& name, const id16& user);

/// "[group] sender: text", with a visible warning appended when the signature did not verify.
[[nodiscard]] std::string message_line(const std::string& group_name, const std::string& sender_name,
                                       const std::string& text, bool verified, const std::string& warning);

/// {"group","seq","sender","sender_name","ts","text","verified"} (plus "warning" when unverified).
[[nodiscard]] std::string message_json(const client::group_message& m, const std::string& group_name,
                                       const std::string& sender_name);
/// {"direct":true,"id","sender","sender_name","ts","text","verified"} for a direct message.
[[nodiscard]] std::string direct_json(const client::direct_message& m, const std::string& sender_name);

/// "!! WARNING <group>: <kind>: <what failed>" (no group part when the warning is about none).
[[nodiscard]] std::string warning_line(const std::string& group_name, const client::warning_event& w);
/// Whether a warning is a security finding (printed as a WARNING) rather than a note (a gap, a
/// commit the broker refused).
[[nodiscard]] bool is_serious(client::warning_kind k) noexcept;

/// A verified membership change as a sentence: "carol was added by alice", "bob left",
/// "dave was made admin by alice"; `user` and `by` are the names to show.
[[nodiscard]] std::string membership_text(const client::membership_event& ev, const std::string& user,
                                          const std::string& by);

/// "owner", "admin", "member".
[[nodiscard]] std::string_view role_name(member_role r) noexcept;

/// The groups table: id, name, role, members, epoch ("*" marks `current` when not zero).
[[nodiscard]] std::string groups_table(const std::vector<client::group_summary>& groups, const id16& current = {});
/// The groups as a JSON array, one object per group.
[[nodiscard]] std::string groups_json(const std::vector<client::group_summary>& groups);

/// The users table: name, id, online.
[[nodiscard]] std::string users_table(const std::vector<client::user_info>& users, const id16& me);

}  // namespace sealcast::cli
