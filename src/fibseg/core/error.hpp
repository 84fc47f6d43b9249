#pragma once
// Errors for people: every exception says what was wrong, where (file, slice, parameter, cell)
// and what was expected. The CLI catches fibseg::Error at the top and exits non-zero.
#include <stdexcept>
#include <string>

namespace fibseg {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace fibseg
