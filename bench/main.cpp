// sealcast-bench: parses the command line, runs one scenario against a broker on loopback,
// prints the result table on stdout and, with --json, writes every figure to a file.

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "bench/options.hpp"
#include "bench/report.hpp"
#include "bench/runner.hpp"
#include "bench/scenarios.hpp"
#include "bench/system_stats.hpp"

using namespace sealcast;
using namespace sealcast::bench;

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = parse_options(args);
  if (!parsed) {
    std::cerr << "sealcast-bench: " << parsed.err().message << "\n\n" << usage();
    return 2;
  }
  const auto& o = *parsed;
  if (o.help) {
    std::cout << usage();
    return 0;
  }
  (void)raise_fd_limit();

  report out(to_string(o.which));
  out.set_target(to_string(o.kind));
  const auto load_before = load_average();
  bench_context ctx(o);
  auto scenario = [&](bench_context& c, report& r) {
    switch (o.which) {
      case scenario::idle:
        return run_idle(c, r);
      case scenario::rotate:
        return run_rotate(c, r);
      case scenario::fanout:
        break;
    }
    switch (o.kind) {
      case target_kind::nats:
        return run_nats_fanout(c, r);
      case target_kind::mqtt:
        return run_mqtt_fanout(c, r);
      case target_kind::sealcast:
        break;
    }
    return run_fanout(c, r);
  };
  const auto st = ctx.run(scenario, out);
  out.param("load_before", load_before);
  out.param("load_after", load_average());

  std::cout << out.table() << std::flush;
  if (!o.json_path.empty()) {
    if (auto w = out.write_json(o.json_path); !w) std::cerr << "sealcast-bench: " << w.err().message << "\n";
  }
  if (!st) {
    std::cerr << "sealcast-bench: " << to_string(o.which) << " failed: " << st.err().message << "\n";
    return 1;
  }
  return 0;
}
