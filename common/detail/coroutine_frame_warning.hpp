#pragma once
// GCC 12 takes the operator new/delete pair of Asio's coroutine frames (awaitable_frame_base)
// for a mismatch in some inlined coroutines and warns -Wmismatched-new-delete: a false positive.
// Include this from a .cpp that runs Asio coroutines: the pragma holds from the include to the
// end of that file. Never from a header, which would silence the warning in every file that
// includes that header.

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
