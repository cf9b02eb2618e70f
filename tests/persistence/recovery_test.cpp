#include <catch2/catch_test_macros.hpp>

#include <rocksdb/db.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <string>
#include <vector>

#include "persistence/store.hpp"
#include "test_support.hpp"

using namespace sealcast;
using namespace sealcast::persistence;
using namespace sealcast::persistence::test;
namespace fs = std::filesystem;

namespace {

// A child process writing publishes, and the read end of its acknowledgement pipe.
struct child {
  pid_t pid = -1;
  int acks = -1;
};

child start_child(const std::string& path, std::uint64_t count) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    const std::string n = std::to_string(count);
    const std::string fd = std::to_string(fds[1]);
    ::execl(SEALCAST_CRASH_CHILD, "persistence_crash_child", path.c_str(), n.c_str(), fd.c_str(),
            static_cast<char*>(nullptr));
    _exit(127);
  }
  ::close(fds[1]);
  return child{pid, fds[0]};
}

// Reads acknowledged seqs until `stop_after` of them (0: until the pipe closes).
std::vector<std::uint64_t> read_acks(int fd, std::size_t stop_after) {
  std::vector<std::uint64_t> acks;
  std::uint64_t seq = 0;
  std::size_t have = 0;
  for (;;) {
    const ssize_t r = ::read(fd, reinterpret_cast<char*>(&seq) + have, sizeof seq - have);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    have += static_cast<std::size_t>(r);
    if (have < sizeof seq) continue;
    acks.push_back(seq);
    have = 0;
    if (stop_after != 0 && acks.size() >= stop_after) break;
  }
  return acks;
}

int wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

// After a crash: every acknowledged publish is there, and what is there is a whole prefix
// (each publish landed with its id and the group's next_seq, or not at all).
void check_recovered(const std::string& path, const std::vector<std::uint64_t>& acks) {
  auto st = open_at(path);
  REQUIRE(st);
  const store& s = **st;
  const auto g = must(s.get_group(sample_group(1).id));
  const auto msgs = must(s.messages_of(g.id, 0, no_limit));
  REQUIRE(msgs.size() == g.next_seq - 1);
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    CHECK(msgs[i].seq == i + 1);
    CHECK(s.find_message(msgs[i].id).ok());
  }
  for (auto seq : acks) {
    INFO("acknowledged seq " << seq);
    CHECK(s.get_message(g.id, seq).ok());
  }
}

// A database with data in table files and a MANIFEST, closed cleanly.
void make_flushed_db(const std::string& path) {
  auto st = open_at(path);
  REQUIRE(st);
  write_batch b;
  for (std::uint64_t n = 1; n <= 50; ++n) b.put_user(sample_user(n));
  REQUIRE((*st)->write(b, true));
  REQUIRE((*st)->flush());
  REQUIRE((*st)->close());
}

fs::path find_file(const std::string& dir, const std::string& prefix, const std::string& ext) {
  fs::path found;
  for (const auto& e : fs::directory_iterator(dir)) {
    const auto name = e.path().filename().string();
    if (name.starts_with(prefix) && name.ends_with(ext) && (found.empty() || e.path() > found)) found = e.path();
  }
  REQUIRE_FALSE(found.empty());
  return found;
}

void overwrite_with_garbage(const fs::path& file) {
  const auto size = fs::file_size(file);
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  for (std::uintmax_t i = 0; i < size; ++i) out.put(static_cast<char>((i * 131 + 7) & 0xff));
}

// Opening must fail with a database error that names the path, not crash or start empty.
void check_refused(const std::string& path) {
  auto st = open_at(path);
  REQUIRE_FALSE(st);
  INFO(st.err().message);
  CHECK((st.err().code == errc::corruption || st.err().code == errc::io_error));
  CHECK(st.err().message.find(path) != std::string::npos);
}

}  // namespace

TEST_CASE("every acknowledged publish survives a child that exits without closing", "[persistence][recovery]") {
  temp_dir dir;
  const auto c = start_child(dir.db(), 100);
  const auto acks = read_acks(c.acks, 0);
  ::close(c.acks);
  const int status = wait_for(c.pid);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  REQUIRE(acks.size() == 100);
  check_recovered(dir.db(), acks);
  CHECK(must(must(open_at(dir.db()))->get_group(sample_group(1).id)).next_seq == 101);
}

TEST_CASE("every acknowledged publish survives a SIGKILL in the middle of writing", "[persistence][recovery]") {
  temp_dir dir;
  const auto c = start_child(dir.db(), 1'000'000);
  auto acks = read_acks(c.acks, 50);
  REQUIRE(acks.size() == 50);
  ::kill(c.pid, SIGKILL);
  // Acks the child sent before it died still count: they were promised.
  const auto late = read_acks(c.acks, 0);
  acks.insert(acks.end(), late.begin(), late.end());
  ::close(c.acks);
  const int status = wait_for(c.pid);
  REQUIRE(WIFSIGNALED(status));
  check_recovered(dir.db(), acks);
}

TEST_CASE("a database whose CURRENT file is garbage is refused with a clear error", "[persistence][recovery]") {
  temp_dir dir;
  make_flushed_db(dir.db());
  overwrite_with_garbage(fs::path(dir.db()) / "CURRENT");
  check_refused(dir.db());
}

TEST_CASE("a database whose MANIFEST is garbage is refused with a clear error", "[persistence][recovery]") {
  temp_dir dir;
  make_flushed_db(dir.db());
  overwrite_with_garbage(find_file(dir.db(), "MANIFEST-", ""));
  check_refused(dir.db());
}

TEST_CASE("a database with a garbage table file is refused with a clear error", "[persistence][recovery]") {
  temp_dir dir;
  make_flushed_db(dir.db());
  overwrite_with_garbage(find_file(dir.db(), "", ".sst"));
  check_refused(dir.db());
}

TEST_CASE("a database missing CURRENT is refused rather than recreated empty", "[persistence][recovery]") {
  temp_dir dir;
  make_flushed_db(dir.db());
  fs::remove(fs::path(dir.db()) / "CURRENT");
  auto st = open_at(dir.db());
  REQUIRE_FALSE(st);
  CHECK(st.err().code == errc::corruption);
  CHECK(st.err().message.find("CURRENT") != std::string::npos);
}

TEST_CASE("a torn last WAL record is dropped and earlier writes survive", "[persistence][recovery]") {
  temp_dir dir;
  {
    auto st = open_at(dir.db());
    REQUIRE(st);
    write_batch first;
    first.put_user(sample_user(1));
    REQUIRE((*st)->write(first, true));
    write_batch last;
    last.put_user(sample_user(2));
    REQUIRE((*st)->write(last, true));
    REQUIRE((*st)->close());  // with a WAL, close does not flush: both writes live only in the log
  }
  const auto wal = find_file(dir.db(), "", ".log");
  fs::resize_file(wal, fs::file_size(wal) - 5);
  auto st = open_at(dir.db());
  REQUIRE(st);
  CHECK(must((*st)->get_user(sample_user(1).id)) == sample_user(1));
  CHECK(code_of((*st)->get_user(sample_user(2).id)) == errc::not_found);
}

TEST_CASE("a WAL corrupted before its last record is refused", "[persistence][recovery]") {
  temp_dir dir;
  {
    auto st = open_at(dir.db());
    REQUIRE(st);
    for (std::uint64_t n = 1; n <= 20; ++n) {
      write_batch b;
      b.put_user(sample_user(n));
      REQUIRE((*st)->write(b, true));
    }
    REQUIRE((*st)->close());
  }
  const auto wal = find_file(dir.db(), "", ".log");
  {
    std::fstream f(wal, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(40);  // inside an early record: its checksum no longer matches
    f.put('\x5a');
  }
  check_refused(dir.db());
}

TEST_CASE("a database of another schema version is refused", "[persistence][recovery]") {
  temp_dir dir;
  {
    auto st = open_at(dir.db());
    REQUIRE(st);
    write_batch b;
    b.put_meta_u64(meta_names::schema_version, 99);
    REQUIRE((*st)->write(b, true));
  }
  auto st = open_at(dir.db());
  REQUIRE_FALSE(st);
  CHECK(st.err().code == errc::bad_format);
  CHECK(st.err().message.find("schema version 99") != std::string::npos);
  CHECK(st.err().message.find("this build reads version " + std::to_string(schema_version)) != std::string::npos);
}

TEST_CASE("a protocol v1 database is refused with what to do about it", "[persistence][recovery]") {
  temp_dir dir;
  {
    auto st = open_at(dir.db());
    REQUIRE(st);
    write_batch b;
    b.put_meta_u64(meta_names::schema_version, 1);
    REQUIRE((*st)->write(b, true));
  }
  auto st = open_at(dir.db());
  REQUIRE_FALSE(st);
  CHECK(st.err().code == errc::bad_format);
  const std::string& message = st.err().message;
  INFO(message);
  CHECK(message.find(dir.db()) != std::string::npos);
  CHECK(message.find("has schema version 1, this build reads version " + std::to_string(schema_version)) != std::string::npos);
  CHECK(message.find("Protocol v2 changed the stored manifests") != std::string::npos);
  CHECK(message.find("started fresh") != std::string::npos);
  CHECK(message.find("v1 build") != std::string::npos);
}

TEST_CASE("a database with a column family from a newer version is refused", "[persistence][recovery]") {
  temp_dir dir;
  make_flushed_db(dir.db());
  {
    rocksdb::DB* raw = nullptr;
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (auto name : column_family_names) families.emplace_back(std::string(name), rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    REQUIRE(rocksdb::DB::Open(rocksdb::DBOptions(), dir.db(), families, &handles, &raw).ok());
    rocksdb::ColumnFamilyHandle* extra = nullptr;
    REQUIRE(raw->CreateColumnFamily(rocksdb::ColumnFamilyOptions(), "from_the_future", &extra).ok());
    handles.push_back(extra);
    for (auto* h : handles) REQUIRE(raw->DestroyColumnFamilyHandle(h).ok());
    REQUIRE(raw->Close().ok());
    delete raw;
  }
  auto st = open_at(dir.db());
  REQUIRE_FALSE(st);
  CHECK(st.err().code == errc::bad_format);
  CHECK(st.err().message.find("from_the_future") != std::string::npos);
}
