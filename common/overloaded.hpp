#pragma once
// The visitor of std::visit built from lambdas.

namespace sealcast {

/// One callable with the call operators of all `Fs`:
/// `std::visit(overloaded{[](const a&) {...}, [](const b&) {...}}, v)`.
template <class... Fs>
struct overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
overloaded(Fs...) -> overloaded<Fs...>;

}  // namespace sealcast
