// The Python module `fibseg`: numpy arrays in and out, parameters by their file names
// ("section.key") checked by the same registry as the CLI, fibseg::Error raised as ValueError
// with the CLI's message. Only glue: every function calls a stage core or the pipeline, with the
// GIL released while C++ works.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <optional>
#include <sstream>
#include <streambuf>

#include "fibseg/align/align.hpp"
#include "fibseg/config/load.hpp"
#include "fibseg/config/registry.hpp"
#include "fibseg/core/error.hpp"
#include "fibseg/core/phases.hpp"
#include "fibseg/intensity/denoise.hpp"
#include "fibseg/intensity/intensity.hpp"
#include "fibseg/io/slice_series.hpp"
#include "fibseg/learn/learn.hpp"
#include "fibseg/measure/label_file.hpp"
#include "fibseg/measure/metrics.hpp"
#include "fibseg/phantom/write_phantom.hpp"
#include "fibseg/pipeline/block_tasks.hpp"
#include "fibseg/pipeline/run.hpp"
#include "fibseg/segment/segment.hpp"
#include "fibseg/segment/tune.hpp"

namespace py = pybind11;
using namespace fibseg;

namespace {

// ---- parameters: kwargs -> "section.key=value" overrides, loaded as `--set` would be ----

std::string valueText(const py::handle& value) {
  if (py::isinstance<py::bool_>(value)) return value.cast<bool>() ? "true" : "false";
  if (py::isinstance<py::str>(value)) return value.cast<std::string>();
  if (py::isinstance<py::list>(value) || py::isinstance<py::tuple>(value)) {
    std::string text = "[";
    for (auto item : value) text += (text.size() > 1 ? ", " : "") + py::str(item).cast<std::string>();
    return text + "]";
  }
  return py::str(value).cast<std::string>();
}

// Accepts {'align.max_shift': 40} and {'align': {'max_shift': 40}} alike.
std::vector<std::string> overridesFrom(const py::dict& params) {
  std::vector<std::string> overrides;
  for (auto [key, value] : params) {
    const auto name = py::str(key).cast<std::string>();
    if (py::isinstance<py::dict>(value)) {
      for (auto [k, v] : value.cast<py::dict>())
        overrides.push_back(name + "." + py::str(k).cast<std::string>() + "=" + valueText(v));
    } else {
      overrides.push_back(name + "=" + valueText(value));
    }
  }
  return overrides;
}

config::ParamSet paramsFrom(const py::dict& params) {
  return config::loadParameters("", overridesFrom(params), config::RequiredValues::MayBeMissing);
}

// ---- arrays: numpy <-> cv::Mat sharing memory ----

using Array = py::array;

int cvTypeOf(const py::array& a, const char* argument) {
  if (a.dtype().is(py::dtype::of<std::uint8_t>())) return CV_8U;
  if (a.dtype().is(py::dtype::of<std::uint16_t>())) return CV_16U;
  throw py::type_error(std::string(argument) + ": expected a uint8 or uint16 array, got dtype " +
                       py::str(a.dtype()).cast<std::string>());
}

void requireContiguous(const py::array& a, const char* argument) {
  if (!(a.flags() & py::array::c_style))
    throw py::value_error(std::string(argument) + ": expected a C-contiguous array (use numpy.ascontiguousarray)");
}

void requireNdim(const py::array& a, const char* argument, int lo, int hi, const char* shape) {
  if (a.ndim() < lo || a.ndim() > hi)
    throw py::value_error(std::string(argument) + ": expected " + shape + ", got " + std::to_string(a.ndim()) +
                          " dimensions");
}

// A view of slice z of a 2-D (z = 0) or 3-D array; no copy.
cv::Mat sliceView(const py::array& a, int type, py::ssize_t z) {
  const bool stack = a.ndim() == 3;
  const int rows = static_cast<int>(a.shape(stack ? 1 : 0)), cols = static_cast<int>(a.shape(stack ? 2 : 1));
  auto* base = static_cast<std::uint8_t*>(const_cast<void*>(a.data())) + (stack ? z * a.strides(0) : 0);
  return cv::Mat(rows, cols, type, base);
}

py::array newArray(int type, std::vector<py::ssize_t> shape) {
  if (type == CV_16U) return py::array_t<std::uint16_t>(shape);
  if (type == CV_32F) return py::array_t<float>(shape);
  return py::array_t<std::uint8_t>(shape);
}

void copyInto(const cv::Mat& m, py::array& out, py::ssize_t z) {
  const int type = m.type();
  cv::Mat dst = sliceView(out, type, z);
  m.copyTo(dst);
}

// A stage's result handed to numpy without a copy: the array keeps the cv::Mat (its reference-
// counted buffer) alive through a capsule. Needs the GIL.
py::array arrayOwning(cv::Mat m) {
  // a header over memory it does not own (the input array itself, when a stage had nothing to do)
  // is copied: the result must not alias the input nor outlive it
  if (!m.isContinuous() || m.u == nullptr) m = m.clone();
  const py::dtype dtype = m.depth() == CV_16U ? py::dtype::of<std::uint16_t>()
                          : m.depth() == CV_32F ? py::dtype::of<float>()
                                                : py::dtype::of<std::uint8_t>();
  auto* owner = new cv::Mat(std::move(m));
  py::capsule keep(owner, [](void* p) { delete static_cast<cv::Mat*>(p); });
  return py::array(dtype, {owner->rows, owner->cols}, {static_cast<py::ssize_t>(owner->step[0]),
                   static_cast<py::ssize_t>(owner->elemSize())}, owner->data, keep);
}

// The result of `fn` on each slice of a slice (H x W) or stack (Z x H x W) input: a slice's result
// is handed over without a copy, a stack's are copied into one Z x H x W array (the stage writes a
// fresh cv::Mat per slice). `fn` runs without the GIL.
template <class Fn>
py::array resultPerSlice(const py::array& image, int type, int outType, Fn fn) {
  if (image.ndim() == 2) {
    cv::Mat result;
    {
      py::gil_scoped_release nogil;
      result = fn(sliceView(image, type, 0));
    }
    return arrayOwning(std::move(result));
  }
  auto out = newArray(outType, {image.shape(0), image.shape(1), image.shape(2)});
  py::gil_scoped_release nogil;
  for (py::ssize_t z = 0; z < image.shape(0); ++z) copyInto(fn(sliceView(image, type, z)), out, z);
  return out;
}

using Shifts = py::array_t<double, py::array::c_style | py::array::forcecast>;  // converted to float64

// Z x 2 (x, y) rows; a NaN would pass the stages' range checks and give a slice of garbage, and a
// shift beyond int range would overflow the output area (the pipeline's own are bounded by
// align.max_shift; 1e7 px is far beyond any microscope frame).
std::vector<cv::Point2d> shiftsFrom(const Shifts& shifts) {
  if (shifts.ndim() != 2 || shifts.shape(1) != 2) throw py::value_error("shifts: expected a Z x 2 array (x, y) px");
  std::vector<cv::Point2d> s;
  for (py::ssize_t i = 0; i < shifts.shape(0); ++i) {
    const double x = shifts.at(i, 0), y = shifts.at(i, 1);
    if (!std::isfinite(x) || !std::isfinite(y) || std::abs(x) > 1e7 || std::abs(y) > 1e7)
      throw py::value_error("shifts: row " + std::to_string(i) + " is (" + std::to_string(x) + ", " + std::to_string(y) +
                            "); expected finite numbers of pixels, at most 1e7 in size");
    s.emplace_back(x, y);
  }
  return s;
}

// ---- progress: the pipeline's log lines handed to a Python callback ----

class CallbackBuffer : public std::stringbuf {
 public:
  explicit CallbackBuffer(std::function<void(std::string)> fn) : fn_(std::move(fn)) {}
  int sync() override {
    std::string text = str();
    str("");
    std::size_t start = 0;
    for (std::size_t nl; (nl = text.find_first_of("\n\r", start)) != std::string::npos; start = nl + 1)
      if (nl > start) emit(text.substr(start, nl - start));
    if (start < text.size()) str(text.substr(start));
    return 0;
  }
 private:
  void emit(const std::string& line) {
    py::gil_scoped_acquire gil;
    fn_(line);
  }
  std::function<void(std::string)> fn_;
};

}  // namespace

namespace {

// What fibseg.run returns: the summary and every output run.json lists.
py::dict summaryDict(const pipeline::RunSummary& s) {
  py::dict out;
  out["slices"] = s.slices;
  out["seconds"] = s.seconds;
  py::dict fractions;
  for (std::size_t i = 0; i < s.phases.size() && i < s.fractions.size(); ++i) fractions[py::str(s.phases[i])] = s.fractions[i];
  out["fractions"] = fractions;
  out["output_folder"] = s.outputFolder.string();
  out["reused_cache"] = s.reusedCache;
  // the output paths: every file the run wrote, as its run.json lists them (name -> full path)
  py::dict outputs;
  const auto runJson = s.outputFolder / "run.json";
  std::ifstream in(runJson);
  const auto run = nlohmann::json::parse(in, nullptr, false);
  if (!run.is_object() || !run.contains("outputs") || !run["outputs"].is_array())
    throw fibseg::Error(runJson.string() + ": missing or without its list of outputs after the run");
  outputs["run.json"] = runJson.string();
  for (const auto& o : run["outputs"]) {
    const auto name = o.value("file", std::string());
    outputs[py::str(name)] = (s.outputFolder / name).string();
  }
  out["outputs"] = outputs;
  return out;
}

config::ParamSet runParameters(const py::object& config) {
  return py::isinstance<py::dict>(config) ? config::loadParameters("", overridesFrom(config.cast<py::dict>()))
                                          : config::loadParameters(py::str(config).cast<std::string>(), {});
}

// A log stream for a Python callback (None: quiet), alive as long as its owner.
struct PythonLog {
  explicit PythonLog(const py::object& progress) {
    if (progress.is_none()) return;
    buffer = std::make_unique<CallbackBuffer>(progress.cast<std::function<void(std::string)>>());
    stream = std::make_unique<std::ostream>(buffer.get());
  }
  std::ostream& out() { return stream ? *stream : quiet; }
  std::ostringstream quiet;
  std::unique_ptr<CallbackBuffer> buffer;
  std::unique_ptr<std::ostream> stream;
};

// The client side of fibseg.distributed: the output folder, the plan and the reductions.
struct DistributedRunHandle {
  DistributedRunHandle(const py::object& config, const py::object& progress, bool overwrite, bool resume,
                       bool terminal)
      : log(progress) {
    pipeline::RunOptions options;
    options.overwrite = overwrite;
    options.log = &log.out();
    options.terminal = terminal;
    const config::ParamSet params = runParameters(config);
    py::gil_scoped_release nogil;
    run = std::make_unique<pipeline::DistributedRun>(params, options, resume);
    log.out().flush();
  }
  template <class Fn>
  auto call(Fn fn) {
    struct Flush {
      std::ostream& o;
      ~Flush() { o.flush(); }
    } flush{log.out()};
    py::gil_scoped_release nogil;
    return fn(*run);
  }
  PythonLog log;
  std::unique_ptr<pipeline::DistributedRun> run;
};

void addDistributed(py::module_& m) {
  m.attr("__version__") = pipeline::taskVersion();
  m.def("_run_block_task", [](const std::string& plan, const std::string& stage, int block, int threads) {
    py::gil_scoped_release nogil;
    return pipeline::runBlockTask(plan, stage, block, threads);
  }, py::arg("plan"), py::arg("stage"), py::arg("block"), py::arg("threads") = 0,
     "fibseg.distributed: one task of a stage ('register': a chain; 'correct', 'segment', 'correct_segment': a "
     "block) of a run (on a worker). Returns its seconds.");
  py::class_<DistributedRunHandle>(m, "_DistributedRun",
                                   "fibseg.distributed's client side: output folder, plan, reductions (see block_tasks.hpp)")
      .def(py::init<const py::object&, const py::object&, bool, bool, bool>(), py::arg("config"),
           py::arg("progress") = py::none(), py::arg("overwrite") = false, py::arg("resume") = true,
           py::arg("terminal") = false)
      .def_property_readonly("plan", [](DistributedRunHandle& h) { return h.run->planJson(); })
      .def_property_readonly("blocks", [](DistributedRunHandle& h) { return h.run->blocks(); })
      .def_property_readonly("slices", [](DistributedRunHandle& h) { return h.run->slices(); })
      .def_property_readonly("block_sizes", [](DistributedRunHandle& h) { return h.run->blockSizes(); })
      .def_property_readonly("block_memory_bytes", [](DistributedRunHandle& h) { return h.run->blockMemoryBytes(); })
      .def_property_readonly("block_memory_text", [](DistributedRunHandle& h) { return h.run->blockMemoryText(); })
      .def_property_readonly("registered", [](DistributedRunHandle& h) { return h.run->registered(); })
      .def_property_readonly("stages", [](DistributedRunHandle& h) { return h.run->stages(); })
      .def("task_sizes", [](DistributedRunHandle& h, const std::string& stage) { return h.run->taskSizes(stage); })
      .def("missing_blocks", [](DistributedRunHandle& h, const std::string& stage) { return h.run->missingBlocks(stage); })
      .def("after_registration", [](DistributedRunHandle& h) { h.call([](auto& r) { r.afterRegistration(); }); })
      .def("after_correction", [](DistributedRunHandle& h) { h.call([](auto& r) { r.afterCorrection(); }); })
      .def("join_aligned", [](DistributedRunHandle& h) { h.call([](auto& r) { r.joinAligned(); }); })
      .def("after_block", [](DistributedRunHandle& h) { h.call([](auto& r) { r.afterBlock(); }); })
      .def("finish", [](DistributedRunHandle& h) {
        const auto summary = h.call([](auto& r) { return r.finish(); });
        return summaryDict(summary);
      })
      .def("start_progress", [](DistributedRunHandle& h, const std::string& stage, int total) {
        h.call([&](auto& r) { r.startProgress(stage, total); });
      })
      .def("advance_progress", [](DistributedRunHandle& h, int steps) { h.call([&](auto& r) { r.advanceProgress(steps); }); },
           py::arg("steps") = 1)
      .def("finish_progress", [](DistributedRunHandle& h) { return h.call([](auto& r) { return r.finishProgress(); }); })
      .def("say", [](DistributedRunHandle& h, const std::string& line) {
        h.call([&](auto& r) { r.log() << line << "\n"; });
      });
}
}  // namespace

PYBIND11_MODULE(_fibseg, m) {
  m.doc() = "fibseg: FIB-SEM slice series -> aligned, brightness-corrected, segmented 3D volume";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const fibseg::Error& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    }
  });

  m.def("parameters", [] {
    py::list out;
    for (const auto& s : config::allParameters()) {
      py::dict d;
      d["name"] = s.name();
      d["section"] = s.section;
      d["key"] = s.key;
      d["type"] = config::typeName(s.type);
      d["default"] = s.defaultValue;
      d["unit"] = s.unit;
      d["min"] = s.min ? py::cast(*s.min) : py::none();
      d["max"] = s.max ? py::cast(*s.max) : py::none();
      d["choices"] = s.choices;
      d["expects"] = s.expectation();
      d["description"] = s.description;
      d["required"] = s.required;
      out.append(d);
    }
    return out;
  }, "Every parameter of the registry: name, default, unit, range, description.");

  m.def("phantom", [](const std::string& folder, int width, int height, int slices, unsigned seed, int bitDepth,
                      bool multiPage) {
    phantom::PhantomParams p;
    p.width = width; p.height = height; p.slices = slices; p.seed = seed; p.bitDepth = bitDepth;
    py::gil_scoped_release nogil;
    phantom::writePhantom(p, folder, multiPage);
  }, py::arg("folder"), py::arg("width") = phantom::PhantomParams{}.width,
     py::arg("height") = phantom::PhantomParams{}.height, py::arg("slices") = phantom::PhantomParams{}.slices,
     py::arg("seed") = phantom::PhantomParams{}.seed, py::arg("bit_depth") = phantom::PhantomParams{}.bitDepth,
     py::arg("multi_page") = false,
     "Writes a synthetic slice series with ground truth into `folder` (as `fibseg phantom`).");

  m.def("read_series", [](const std::string& path) {
    const auto series = io::SliceSeries::open(path);
    const int type = series.bitDepth() == 16 ? CV_16U : CV_8U;
    auto out = newArray(type, {static_cast<py::ssize_t>(series.size()), series.height(), series.width()});
    {
      py::gil_scoped_release nogil;
      for (std::size_t z = 0; z < series.size(); ++z) {
        cv::Mat dst = sliceView(out, type, static_cast<py::ssize_t>(z));
        series.read(z).copyTo(dst);
      }
    }
    py::dict meta;
    meta["bit_depth"] = series.bitDepth();
    meta["pixel_size_nm"] = series.pixelSizeNm() ? py::cast(*series.pixelSizeNm()) : py::none();
    meta["data_bar_rows"] = series.dataBarRows() ? py::cast(*series.dataBarRows()) : py::none();
    py::list names;
    for (std::size_t z = 0; z < series.size(); ++z) names.append(series.sliceName(z));
    meta["slice_names"] = names;
    return py::make_tuple(out, meta);
  }, py::arg("path"), "The slice series at `path` as a Z x H x W uint8/uint16 array, and its metadata.");

  m.def("crop_rect", [](const py::array& slice, std::optional<int> metadataRows, const py::kwargs& kw) {
    requireNdim(slice, "slice", 2, 2, "an H x W slice");
    requireContiguous(slice, "slice");
    const auto p = config::alignParamsFrom(paramsFrom(kw));
    const cv::Mat s = sliceView(slice, cvTypeOf(slice, "slice"), 0);
    const auto r = align::cropRect(s.size(), align::dataBarRows(s, p, metadataRows), p.roi);
    return py::make_tuple(r.x, r.y, r.width, r.height);
  }, py::arg("slice"), py::arg("data_bar_rows") = py::none(),
     "The kept part (x, y, width, height) of raw slices like `slice`: the data bar (align.data_bar*) "
     "and align.roi cut off, as the pipeline does before registration. data_bar_rows: the file's figure (read_series metadata).");

  m.def("register", [](const py::array& stack, const py::kwargs& kw) {
    requireNdim(stack, "stack", 3, 3, "a Z x H x W stack");
    requireContiguous(stack, "stack");
    const int type = cvTypeOf(stack, "stack");
    const auto params = config::alignParamsFrom(paramsFrom(kw)).registration;
    std::vector<align::SliceTransform> t;
    {
      py::gil_scoped_release nogil;
      std::vector<cv::Mat> slices;
      for (py::ssize_t z = 0; z < stack.shape(0); ++z) slices.push_back(sliceView(stack, type, z));
      t = align::registerSlices(slices, params);
    }
    py::array_t<double> shifts({static_cast<py::ssize_t>(t.size()), py::ssize_t{2}});
    py::array_t<double> peaks(static_cast<py::ssize_t>(t.size()));
    py::array_t<bool> flagged(static_cast<py::ssize_t>(t.size()));
    py::array_t<double> quality(static_cast<py::ssize_t>(t.size()));
    for (std::size_t i = 0; i < t.size(); ++i) {
      shifts.mutable_at(i, 0) = t[i].shift.x;
      shifts.mutable_at(i, 1) = t[i].shift.y;
      peaks.mutable_at(i) = t[i].peak;
      flagged.mutable_at(i) = t[i].flagged;
      quality.mutable_at(i) = t[i].quality;
    }
    py::dict out;
    out["shifts"] = shifts;
    out["peak"] = peaks;
    out["flagged"] = flagged;
    out["quality"] = quality;
    return out;
  }, py::arg("stack"),
     "Registers a cropped Z x H x W stack. Parameters: align.* as keywords, e.g. "
     "register(s, **{'align.max_shift': 40}) or register(s, align={'max_shift': 40}). Returns "
     "{'shifts': Z x 2 (x, y) px, 'peak', 'quality', 'flagged' (bridged)}.");

  m.def("apply_shifts", [](const py::array& stack, const Shifts& shifts, const std::string& crop) {
    requireNdim(stack, "stack", 3, 3, "a Z x H x W stack");
    requireContiguous(stack, "stack");
    const int type = cvTypeOf(stack, "stack");
    const auto s = shiftsFrom(shifts);
    if (static_cast<py::ssize_t>(s.size()) != stack.shape(0))
      throw py::value_error("shifts: expected one row per slice (" + std::to_string(stack.shape(0)) + "), got " +
                            std::to_string(s.size()));
    if (crop != "common" && crop != "pad") throw py::value_error("crop: expected 'common' or 'pad'");
    const cv::Size size(static_cast<int>(stack.shape(2)), static_cast<int>(stack.shape(1)));
    const auto rect = align::outputRect(s, size, crop == "pad" ? align::CropMode::Pad : align::CropMode::Common);
    auto out = newArray(type, {stack.shape(0), rect.height, rect.width});
    py::gil_scoped_release nogil;
    for (py::ssize_t z = 0; z < stack.shape(0); ++z)
      copyInto(align::applyShift(sliceView(stack, type, z), s[z], rect), out, z);
    return out;
  }, py::arg("stack"), py::arg("shifts"), py::arg("crop") = "common",
     "Moves each slice back by its shift (bicubic); crop 'common' (area shared by all) or 'pad'. "
     "shifts (Z x 2, x y px, as register returns) is converted to float64; output_rect gives where the result lies.");

  // Slice-by-slice corrections on a slice (H x W) or a stack (Z x H x W).
  auto perSlice = [](const py::array& image, const char* argument, auto fn) {
    requireNdim(image, argument, 2, 3, "an H x W slice or a Z x H x W stack");
    requireContiguous(image, argument);
    const int type = cvTypeOf(image, argument);
    return resultPerSlice(image, type, type, fn);
  };

  m.def("clahe", [perSlice](const py::array& image, const py::kwargs& kw) {
    auto p = config::intensityParamsFrom(paramsFrom(kw)).enhance;
    p.clahe = true;
    return perSlice(image, "image", [&](const cv::Mat& s) { return intensity::enhanceContrast(s, p); });
  }, py::arg("image"), "CLAHE (and intensity.gamma) on a slice or stack; intensity.* parameters as keywords.");

  m.def("denoise", [perSlice](const py::array& image, const py::kwargs& kw) {
    const auto p = config::denoiseParamsFrom(paramsFrom(kw));
    return perSlice(image, "image", [&](const cv::Mat& s) { return intensity::denoise(s, p); });
  }, py::arg("image"), "intensity.denoise (what segmentation sees) on a slice or stack; intensity.denoise* as keywords.");

  m.def("correct_brightness", [perSlice](const py::array& stack, const py::kwargs& kw) {
    requireNdim(stack, "stack", 3, 3, "a Z x H x W stack");
    requireContiguous(stack, "stack");
    const int type = cvTypeOf(stack, "stack");
    const auto p = config::intensityParamsFrom(paramsFrom(kw));
    std::vector<intensity::BrightnessStats> stats;
    {
      py::gil_scoped_release nogil;
      for (py::ssize_t z = 0; z < stack.shape(0); ++z) stats.push_back(intensity::measureBrightness(sliceView(stack, type, z)));
    }
    const auto reference = intensity::needsBrightnessReference(p)
                               ? intensity::brightnessReference(stats, p.brightness.reference)
                               : intensity::BrightnessStats{};
    return perSlice(stack, "stack", [&](const cv::Mat& s) { return intensity::correctIntensity(s, reference, p).image; });
  }, py::arg("stack"), "All intensity corrections (brightness, shading, curtaining, enhancement) on a stack; intensity.* as keywords.");

  m.def("segment_classical", [](const py::array& image, int camThreshold, const py::kwargs& kw) {
    requireNdim(image, "image", 2, 3, "an H x W slice or a Z x H x W stack");
    requireContiguous(image, "image");
    const int type = cvTypeOf(image, "image");
    const auto all = paramsFrom(kw);
    const auto p = config::segmentParamsFrom(all);
    const auto denoise = config::denoiseParamsFrom(all);
    const py::ssize_t n = image.ndim() == 3 ? image.shape(0) : 1;
    int threshold = camThreshold;
    if (threshold < 0 && p.otsuScope == segment::OtsuScope::Stack && n > 1) {  // on what it segments, as the pipeline
      py::gil_scoped_release nogil;
      segment::GreyHistogram h(type == CV_16U ? 16 : 8);
      for (py::ssize_t z = 0; z < n; ++z) h.add(intensity::denoise(sliceView(image, type, z), denoise));
      threshold = segment::otsuThreshold(h);
    }
    return resultPerSlice(image, type, CV_8U, [&](const cv::Mat& slice) {
      return segment::segmentSlice(slice, intensity::denoise(slice, denoise), p, threshold).labels;
    });
  }, py::arg("image"), py::arg("cam_threshold") = -1,
     "Labels (0 pore, 1 SE, 2 CAM) of a slice or stack; segment.* and intensity.denoise* parameters as keywords.");

  m.def("tune", [](const py::array& slice, const py::array& annotation, int camThreshold,
                   std::optional<std::vector<int>> kernelSizes, std::optional<std::vector<double>> sigmas,
                   std::optional<std::vector<double>> thetas, std::optional<std::vector<double>> lambdas,
                   std::optional<std::vector<double>> gammas, std::optional<std::vector<double>> psis) {
    requireNdim(slice, "slice", 2, 2, "an H x W slice");
    requireContiguous(slice, "slice");
    requireNdim(annotation, "annotation", 2, 2, "an H x W uint8 annotation (0 unpainted, 1 pore, 2 SE, 3 CAM)");
    requireContiguous(annotation, "annotation");
    if (cvTypeOf(annotation, "annotation") != CV_8U) throw py::type_error("annotation: expected uint8 (0 unpainted, 1 pore, 2 SE, 3 CAM)");
    const cv::Mat s = sliceView(slice, cvTypeOf(slice, "slice"), 0);
    const cv::Mat a = sliceView(annotation, CV_8U, 0);
    if (a.size() != s.size()) throw py::value_error("annotation: expected the slice's size");
    // the sweep as `fibseg tune --kernel-sizes ... --psis`: a list given replaces the default one
    auto sweep = segment::defaultGaborSweep();
    if (kernelSizes) sweep.kernelSizes = *kernelSizes;
    if (sigmas) sweep.sigmas = *sigmas;
    if (thetas) sweep.thetasDeg = *thetas;
    if (lambdas) sweep.lambdas = *lambdas;
    if (gammas) sweep.gammas = *gammas;
    if (psis) sweep.psisDeg = *psis;
    segment::TuneResult r;
    int threshold = camThreshold;
    {
      py::gil_scoped_release nogil;
      if (threshold < 0) threshold = segment::otsuThreshold(s);
      r = segment::tuneGabor(s, segment::camMask(s, threshold), segment::annotationLabels(a, "argument"), sweep);
    }
    auto settings = [](const segment::TuneCandidate& c) {
      py::dict d;  // named as in the parameter files, ready for segment_classical(**d)
      d["segment.gabor_kernel_size"] = c.gabor.kernelSize;
      d["segment.gabor_sigma"] = c.gabor.sigma;
      d["segment.gabor_theta"] = c.gabor.thetaDeg;
      d["segment.gabor_lambda"] = c.gabor.lambda;
      d["segment.gabor_gamma"] = c.gabor.gamma;
      d["segment.gabor_psi"] = c.gabor.psiDeg;
      d["segment.pore_threshold"] = c.threshold;
      return d;
    };
    py::list candidates;  // best first, as `fibseg tune` lists them
    for (const auto& c : r.candidates) {
      py::dict d;
      d["settings"] = settings(c);
      d["score"] = c.score;
      d["pore_iou"] = c.poreIou;
      d["se_iou"] = c.seIou;
      d["balanced_accuracy"] = c.balancedAccuracy;
      candidates.append(d);
    }
    py::dict out;
    out["best"] = settings(r.best);
    out["score"] = r.best.score;
    out["pore_iou"] = r.best.poreIou;
    out["se_iou"] = r.best.seIou;
    out["cam_threshold"] = threshold;
    out["cam_agreement"] = r.camAgreement;
    out["painted"] = py::dict(py::arg("pore") = r.paintedPore, py::arg("SE") = r.paintedSe, py::arg("CAM") = r.paintedCam);
    out["candidates"] = candidates;
    return out;
  }, py::arg("slice"), py::arg("annotation"), py::arg("cam_threshold") = -1, py::kw_only(),
     py::arg("kernel_sizes") = py::none(), py::arg("sigmas") = py::none(), py::arg("thetas") = py::none(),
     py::arg("lambdas") = py::none(), py::arg("gammas") = py::none(), py::arg("psis") = py::none(),
     "Sweeps the Gabor settings on a slice against painted strokes (as `fibseg tune`; the lists replace "
     "the default sweep as --kernel-sizes ... --psis do); returns the best settings as segment.* "
     "parameters ('best', ready for segment_classical(**best)), their score, and every candidate, best first.");

  m.def("output_rect", [](const Shifts& shifts, int width, int height, const std::string& crop) {
    const auto s = shiftsFrom(shifts);
    if (crop != "common" && crop != "pad") throw py::value_error("crop: expected 'common' or 'pad'");
    const auto r = align::outputRect(s, cv::Size(width, height), crop == "pad" ? align::CropMode::Pad : align::CropMode::Common);
    return py::make_tuple(r.x, r.y, r.width, r.height);
  }, py::arg("shifts"), py::arg("width"), py::arg("height"), py::arg("crop") = "common",
     "The area (x, y, width, height) in slice 0's frame that apply_shifts returns for slices of "
     "width x height: aligned[z][j, i] shows slice 0's pixel (y + j, x + i). shifts is converted to float64.");

  py::class_<learn::Classifier>(m, "Model", "A trained pixel classifier (XGBoost on a feature bank).")
      .def("save", [](const learn::Classifier& c, const std::string& path) { c.save(path); }, py::arg("path"))
      .def_static("load", [](const std::string& path) { return learn::Classifier::load(path); }, py::arg("path"))
      .def_property_readonly("features", [](const learn::Classifier& c) {
        return learn::featureNames(c.featureSpec());
      })
      .def_property_readonly("preset_choice", [](const learn::Classifier& c) { return c.presetChoiceText(); },
                             "learn.preset = auto: the cross-validated table and the choice (empty for manual)");

  m.def("train", [](const py::sequence& images, const py::sequence& annotations, const py::kwargs& kw) {
    if (py::isinstance<py::str>(images) || py::isinstance<py::str>(annotations) ||
        images.size() != annotations.size() || images.size() == 0)
      throw py::value_error("images, annotations: expected two lists (or Z x H x W stacks) of the same, non-zero length");
    const auto all = paramsFrom(kw);
    auto p = config::learnParamsFrom(all);
    const auto phases = config::phasesFrom(all);
    learn::resolveCnnModel(p.features);
    // as `fibseg train`: the slices go through intensity.denoise when learn.denoise_input says so
    const auto denoiseAll = config::denoiseParamsFrom(all);
    const auto denoise = p.denoiseInput ? denoiseAll : intensity::noDenoising(denoiseAll);
    const learn::TrainingContext context{phases.names, phases.values, phases.coloursRgb, 0,
                                         intensity::describeDenoise(denoise)};
    std::vector<py::array> keep;  // the arrays the views below point into
    std::vector<learn::AnnotatedSlice> examples;
    std::vector<std::string> paintedNames;
    for (std::size_t i = 0; i < images.size(); ++i) {
      auto im = images[i].cast<py::array>(), an = annotations[i].cast<py::array>();
      const auto image = "images[" + std::to_string(i) + "]", painted = "annotations[" + std::to_string(i) + "]";
      requireNdim(im, image.c_str(), 2, 2, "an H x W slice");
      requireContiguous(im, image.c_str());
      requireNdim(an, painted.c_str(), 2, 2, "an H x W uint8 annotation (0 unlabelled, 1 pore, 2 SE, 3 CAM)");
      requireContiguous(an, painted.c_str());
      if (cvTypeOf(an, painted.c_str()) != CV_8U) throw py::type_error(painted + ": expected uint8");
      if (an.shape(0) != im.shape(0) || an.shape(1) != im.shape(1))
        throw py::value_error(painted + ": expected the size of " + image);
      examples.push_back({sliceView(im, cvTypeOf(im, image.c_str()), 0), sliceView(an, CV_8U, 0), image});
      keep.push_back(im);
      keep.push_back(an);
      paintedNames.push_back(painted);
    }
    py::gil_scoped_release nogil;
    for (std::size_t i = 0; i < examples.size(); ++i) {  // checked and denoised as `fibseg train` does
      examples[i].annotation = learn::annotationFromImage(examples[i].annotation, paintedNames[i], phases);
      examples[i].slice = intensity::denoise(examples[i].slice, denoise);
    }
    return learn::trainModel(examples, p, context);
  }, py::arg("images"), py::arg("annotations"),
     "Trains a classifier from painted slices (annotation 0 unlabelled, phase index + 1: 1 pore, "
     "2 SE, 3 CAM by default); learn.* and phases.* parameters as keywords.");

  m.def("predict", [](const learn::Classifier& model, const py::array& images, const py::kwargs& kw) {
    const auto all = paramsFrom(kw);
    const auto denoiseAll = config::denoiseParamsFrom(all);
    const auto denoise = config::learnParamsFrom(all).denoiseInput ? denoiseAll : intensity::noDenoising(denoiseAll);
    requireNdim(images, "images", 2, 3, "an H x W slice or a Z x H x W stack");
    requireContiguous(images, "images");
    const int type = cvTypeOf(images, "images");
    const auto refine = learn::refinementFor(config::learnParamsFrom(all), model);
    const int phases = static_cast<int>(model.context().phaseNames.size());
    if (!model.needsNeighbours())
      return resultPerSlice(images, type, CV_8U, [&](const cv::Mat& slice) {
        const cv::Mat seen = intensity::denoise(slice, denoise);
        return learn::refineBoundaries(model.predict(seen).labels, seen, refine, phases);
      });
    std::vector<py::ssize_t> shape(images.shape(), images.shape() + images.ndim());
    auto out = newArray(CV_8U, shape);
    const py::ssize_t n = images.ndim() == 3 ? images.shape(0) : 1;
    {
      py::gil_scoped_release nogil;
      // learn.z_context: the stack in order, each slice's features also serving its neighbours.
      learn::StackPredictor inOrder(
          model, false, [&](int z, learn::Prediction p) { copyInto(p.labels, out, z); }, refine);
      for (py::ssize_t z = 0; z < n; ++z) inOrder.add(intensity::denoise(sliceView(images, type, z), denoise));
      inOrder.finish();
    }
    return out;
  }, py::arg("model"), py::arg("images"), "Phase labels of a slice or stack by a trained model (denoised first when "
     "learn.denoise_input, as in train; a model with learn.z_context needs a Z x H x W stack; boundaries "
     "refined when learn.refine_band > 0 or, with learn.preset = auto, as training chose).");

  m.def("predict_uncertainty", [](const learn::Classifier& model, const py::array& image, const py::kwargs& kw) {
    const auto all = paramsFrom(kw);
    const auto denoiseAll = config::denoiseParamsFrom(all);
    const auto denoise = config::learnParamsFrom(all).denoiseInput ? denoiseAll : intensity::noDenoising(denoiseAll);
    requireNdim(image, "image", 2, 2, "an H x W slice");
    requireContiguous(image, "image");
    if (model.needsNeighbours())
      throw py::value_error("predict_uncertainty: the model has learn.z_context; expected a model without z context "
                            "(for a stack, fibseg predict --uncertainty)");
    const int type = cvTypeOf(image, "image");
    learn::Prediction p;
    {
      py::gil_scoped_release nogil;
      const cv::Mat seen = intensity::denoise(sliceView(image, type, 0), denoise);
      p = model.predict(seen, true);
      p.labels = learn::refineBoundaries(p.labels, seen, learn::refinementFor(config::learnParamsFrom(all), model),
                                         static_cast<int>(p.probabilities.size()));
    }
    py::list probabilities;
    for (auto& plane : p.probabilities) probabilities.append(arrayOwning(std::move(plane)));
    return py::make_tuple(arrayOwning(std::move(p.labels)), probabilities, arrayOwning(std::move(p.uncertainty)));
  }, py::arg("model"), py::arg("image"),
     "(labels, [probability per phase], uncertainty) of one slice: uncertainty is the entropy of the phase "
     "probabilities / log(phases), float32 0..1 (0 sure, 1 all phases equally likely): paint where it is high.");

  m.def("measure", [](const py::array& labels, const py::object& voxelSize, const py::object& phases,
                       const py::kwargs& kw) {
    requireNdim(labels, "labels", 3, 3, "a Z x H x W label volume (a 2D image has no tortuosity, connectivity or sizes here)");
    requireContiguous(labels, "labels");
    if (!labels.dtype().is(py::dtype::of<std::uint8_t>()))
      throw py::type_error("labels: expected a uint8 array of label values, got dtype " +
                           py::str(labels.dtype()).cast<std::string>());
    std::array<double, 3> voxel{1, 1, 1};
    if (!voxelSize.is_none()) {
      const auto v = voxelSize.cast<std::vector<double>>();
      if (v.size() != 3 || !std::all_of(v.begin(), v.end(), [](double x) { return std::isfinite(x) && x > 0; }))
        throw py::value_error("voxel_size: expected (x, y, z) in µm, three positive numbers");
      voxel = {v[0], v[1], v[2]};
    }
    const config::ParamSet params = paramsFrom(kw);
    // phases: {name: label value}, or names whose label values are 0, 1, ...; default the
    // registry's phases (phases.names / phases.values, which keywords may set)
    std::vector<measure::PhaseValue> named;
    if (phases.is_none()) {
      const PhaseSet set = config::phasesFrom(params);
      for (int p = 0; p < set.count(); ++p) named.push_back({set.key(p), set.values[p]});
    } else if (py::isinstance<py::dict>(phases)) {
      for (auto [k, v] : phases.cast<py::dict>()) named.push_back({py::str(k).cast<std::string>(), v.cast<int>()});
    } else {
      int value = 0;
      for (auto name : phases) named.push_back({py::str(name).cast<std::string>(), value++});
    }
    measure::LabelVolume volume;
    volume.nz = static_cast<int>(labels.shape(0)), volume.ny = static_cast<int>(labels.shape(1));
    volume.nx = static_cast<int>(labels.shape(2));
    volume.voxelUm = voxel;
    std::array<int, 256> phaseOf;
    phaseOf.fill(-1);
    for (std::size_t p = 0; p < named.size(); ++p) {
      if (named[p].value < 0 || named[p].value > 255)
        throw py::value_error("phases: label value " + std::to_string(named[p].value) + " of '" + named[p].name +
                              "' is outside 0-255");
      phaseOf[named[p].value] = static_cast<int>(p);
      volume.phaseNames.push_back(named[p].name);
    }
    const auto options = config::metricsOptionsFrom(params);
    nlohmann::ordered_json metrics;
    {
      py::gil_scoped_release nogil;
      const auto* in = static_cast<const std::uint8_t*>(labels.data());
      volume.phase.resize(volume.voxels());
      std::array<bool, 256> seen{};
      for (std::size_t i = 0; i < volume.voxels(); ++i) {
        seen[in[i]] = true;
        volume.phase[i] = static_cast<std::uint8_t>(std::max(0, phaseOf[in[i]]));
      }
      std::string unnamed, found;
      for (int g = 0; g < 256; ++g)
        if (seen[g]) (phaseOf[g] < 0 ? unnamed : found) += (std::to_string(g) + " ");
      if (!unnamed.empty())
        throw Error("labels: values " + unnamed + "have no phase (values named: " + found +
                    "); name every value in phases, e.g. {'pore': 0, 'se': 1, 'cam': 2}");
      metrics = measure::measureMetrics(volume, options);
    }
    return py::module_::import("json").attr("loads")(metrics.dump());
  }, py::arg("labels"), py::arg("voxel_size") = py::none(), py::arg("phases") = py::none(),
     "Microstructure metrics of a Z x H x W uint8 label volume, as `fibseg measure` writes them to "
     "metrics.json (a dict): fractions, surface and interface areas, connectivity, tortuosity factors, "
     "sizes, profiles along the thickness. voxel_size: (x, y, z) in µm (default 1, 1, 1). phases: "
     "{name: label value} or a list of names for values 0, 1, ... (default: phases.names / "
     "phases.values). Keywords: measure.* parameters, e.g. measure={'tortuosity': False}. Labels are read in place.");

  m.def("run", [](const py::object& config, const py::object& progress, bool overwrite, const std::string& from) {
    config::ParamSet params = runParameters(config);
    pipeline::RunOptions options;
    options.overwrite = overwrite;
    options.from = from;
    PythonLog log(progress);
    options.log = &log.out();
    pipeline::RunSummary s;
    {
      py::gil_scoped_release nogil;
      s = pipeline::runPipeline(params, options);
      log.out().flush();
    }
    return summaryDict(s);
  }, py::arg("config"), py::arg("progress") = py::none(), py::arg("overwrite") = false, py::arg("from_stage") = "",
     "Runs the pipeline on a parameter file path or a dict {'section.key': value}; progress(line) "
     "receives the log lines. Returns the summary: slices, seconds, fractions per phase, output_folder, and "
     "outputs {name in the folder: path} of every file written (as run.json lists them).");
  addDistributed(m);
}
