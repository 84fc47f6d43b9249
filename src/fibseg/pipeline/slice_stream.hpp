#pragma once
// The first filter of every slice pipeline of the local executor.
#include <tbb/parallel_pipeline.h>

namespace fibseg::pipeline {

/// 0, 1, ..., slices - 1, in order.
inline auto sliceIndices(int& next, int slices) {
  return tbb::make_filter<void, int>(tbb::filter_mode::serial_in_order, [&next, slices](tbb::flow_control& fc) {
    if (next >= slices) fc.stop();
    return next++;
  });
}

}  // namespace fibseg::pipeline
