// castnet::Error: a user error (bad file, bad data). Its message already names the file and the
// place; command-line tools print it and exit with code 1.
#pragma once

#include <stdexcept>
#include <string>

namespace castnet {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace castnet
