// sealcast: the chat client. Identities (keygen, id), scriptable group and message commands,
// listen, and an interactive chat; see usage_text() in arguments.cpp.

#include <exception>
#include <iostream>
#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "tools/sealcast/cli.hpp"
#include "tools/sealcast/commands.hpp"

using namespace sealcast::cli;

namespace {

int fail(const failure& f) {
  std::cerr << "sealcast: " << f.message << "\n";
  if (f.code == exit_usage && f.message.find("usage:") == std::string::npos) std::cerr << "(sealcast --help for usage)\n";
  return f.code;
}

}  // namespace

int main(int argc, char** argv) {
  arguments a;
  try {
    a = parse_arguments(argc, argv);
  } catch (const failure& f) {
    std::cerr << "sealcast: " << f.message << "\n\n" << usage_text();
    return f.code;
  }
  if (a.help) {
    std::cout << usage_text();
    return exit_ok;
  }
  try {
    if (a.command == "keygen") return keygen(a);
    if (a.command == "id") return show_id(a);
    boost::asio::io_context io;
    std::optional<int> code;
    std::exception_ptr error;
    auto done = [&](std::exception_ptr e, int rc) {
      error = e;
      code = rc;
    };
    if (a.command == "chat") {
      boost::asio::co_spawn(io, run_chat(a), done);
    } else {
      boost::asio::co_spawn(io, run_remote(a), done);
    }
    io.run();
    if (error) std::rethrow_exception(error);
    return code.value_or(exit_unreachable);
  } catch (const failure& f) {
    return fail(f);
  } catch (const std::exception& e) {
    std::cerr << "sealcast: " << e.what() << "\n";
    return exit_unreachable;
  }
}
