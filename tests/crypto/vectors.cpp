#include "vectors.hpp"

#include <catch2/catch_test_macros.hpp>

#include <fstream>
#include <sstream>

namespace sealcast::test {
namespace {

boost::json::object load(const std::string& name) {
  const std::string path = std::string(SEALCAST_TEST_VECTORS) + "/" + name;
  std::ifstream in(path);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return boost::json::parse(ss.str()).as_object();
}

}  // namespace

const boost::json::object& rfc_vectors() {
  static const boost::json::object v = load("rfc.json");
  return v;
}

const boost::json::object& v2_vectors() {
  static const boost::json::object v = load("sealcast-v2.json");
  return v;
}

std::string str(const boost::json::value& v) { return std::string(v.as_string().c_str()); }

bytes hex(const boost::json::value& v) {
  auto b = from_hex(str(v));
  REQUIRE(b.ok());
  return *b;
}

id16 id(const boost::json::value& v) {
  auto i = id16::from_hex(str(v));
  REQUIRE(i.ok());
  return *i;
}

crypto::identity identity_of(std::string_view name) {
  const auto& v = v2_vectors().at("identities").at(name);
  auto ident = crypto::identity::from_secrets(hex(v.at("sign_sk")), hex(v.at("kx_sk")));
  REQUIRE(ident.ok());
  return *ident;
}

}  // namespace sealcast::test
