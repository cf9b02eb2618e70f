#pragma once

// Everything a user of the wire protocol needs: frame and result types, and the codec.

#include "protocol/client_frames.hpp"  // IWYU pragma: export
#include "protocol/codec.hpp"          // IWYU pragma: export
#include "protocol/results.hpp"        // IWYU pragma: export
#include "protocol/server_frames.hpp"  // IWYU pragma: export
#include "protocol/types.hpp"          // IWYU pragma: export
