// The runtime ABI that generated headers are checked against (static_assert in every banner).
#pragma once

#define CASTNET_RUNTIME_ABI 2
#define CASTNET_VERSION_STRING "0.1.0"
