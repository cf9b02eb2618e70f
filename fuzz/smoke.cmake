# The fuzz smokes of the test suite: 30 s of each libFuzzer target on a scratch copy of its seed
# corpus, with ASan and UBSan. The binaries come from build-fuzz (preset `fuzz`), which `make test`
# builds before running ctest; without them the smokes are skipped. Run them alone with
# `ctest --preset release -L fuzz`. Included from tests/CMakeLists.txt.
set(SEALCAST_FUZZ_TARGETS client_frame server_frame admin_http config codec)
set(SEALCAST_FUZZ_SMOKE_SECONDS 30 CACHE STRING "Seconds each fuzz smoke test runs its target")
foreach(target IN LISTS SEALCAST_FUZZ_TARGETS)
  add_test(NAME "fuzz smoke: ${target}"
           COMMAND bash ${PROJECT_SOURCE_DIR}/fuzz/run.sh ${target} ${SEALCAST_FUZZ_SMOKE_SECONDS})
  set_tests_properties("fuzz smoke: ${target}" PROPERTIES
    LABELS fuzz
    SKIP_RETURN_CODE 77
    TIMEOUT 300)
endforeach()
