#include "fibseg/pipeline/segment_pass.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "fibseg/core/atomic_file.hpp"
#include "fibseg/core/error.hpp"
#include "fibseg/core/image.hpp"
#include "fibseg/core/text.hpp"
#include "fibseg/io/png.hpp"

namespace fibseg::pipeline {
namespace fs = std::filesystem;

SegmentContext segmentContext(const RunPlan& plan, const AlignedStack& stack) {
  SegmentContext context;
  if (!plan.classifier && !plan.notebook && plan.segment.otsuScope == segment::OtsuScope::Stack)
    context.stackThreshold = stack.stackOtsuThreshold;
  context.probabilities = plan.model && plan.learn.writeProbabilities;
  context.uncertainty = plan.model && plan.uncertaintyPngs;
  context.pngFolder = plan.output / "segmented.partial";
  return context;
}

std::vector<int> emptyOtsuThresholds(const RunPlan& plan, const AlignedStack& stack) {
  if (plan.classifier) return {};  // the classifier needs no threshold
  if (!plan.notebook && plan.segment.otsuScope == segment::OtsuScope::Stack) return {stack.stackOtsuThreshold};
  return std::vector<int>(plan.slices, 0);  // per slice (the notebook takes Otsu per slice)
}

namespace {

// segmented/uncertainty_NNNN.png; on the report's slices also the least certain windows (about a
// sixth of the slice's shorter side, so a few cover a region worth painting) and a preview of the
// map with them outlined (preview/uncertainty_NNNN.png, brightest first: red, orange, yellow).
void writeUncertainty(const RunPlan& plan, const SegmentContext& context, int z, const learn::Prediction& prediction,
                      SegmentedSlice& out) {
  const cv::Mat& u = prediction.uncertainty.empty() ? learn::uncertaintyOf(prediction.probabilities)
                                                    : prediction.uncertainty;
  cv::Mat eight;
  u.convertTo(eight, CV_8U, 255.0);
  io::writePng(context.pngFolder / numbered("uncertainty", z), eight);
  if (!isUncertaintyReportSlice(plan, z)) return;
  const int window = std::clamp(std::min(u.cols, u.rows) / 6, 8, 256);
  out.leastCertain = learn::leastCertainRegions(u, 3, window);
  out.meanUncertainty = cv::mean(u)[0];
  const cv::Mat small = previewImage(eight, plan.previewWidth);
  cv::Mat shown;
  cv::cvtColor(small, shown, cv::COLOR_GRAY2BGR);
  const double scale = static_cast<double>(small.cols) / u.cols;
  const cv::Scalar colours[] = {{0, 0, 255}, {0, 140, 255}, {0, 230, 255}};
  for (std::size_t i = 0; i < out.leastCertain.size(); ++i) {
    const cv::Rect b = out.leastCertain[i].box;
    cv::rectangle(shown, cv::Rect(cv::Point(int(b.x * scale), int(b.y * scale)),
                                  cv::Point(int((b.x + b.width) * scale) - 1, int((b.y + b.height) * scale) - 1)),
                  colours[i % 3], std::max(1, small.cols / 256));
  }
  io::writePng(plan.output / "preview" / numbered("uncertainty", z), shown);
}

}  // namespace

bool isUncertaintyReportSlice(const RunPlan& plan, int z) {
  return z == 0 || z == plan.slices / 2 || z == plan.slices - 1;
}

void writeUncertaintyRegions(const RunPlan& plan, const std::vector<SegmentedSlice>& slices) {
  std::string csv = "slice,rank,x,y,width,height,mean_uncertainty,slice_mean_uncertainty\n";
  char row[160];
  for (const auto& s : slices)
    for (std::size_t i = 0; i < s.leastCertain.size(); ++i) {
      const auto& r = s.leastCertain[i];
      std::snprintf(row, sizeof row, "%d,%zu,%d,%d,%d,%d,%.4f,%.4f\n", s.z, i + 1, r.box.x, r.box.y, r.box.width,
                    r.box.height, r.meanUncertainty, s.meanUncertainty);
      csv += row;
    }
  writeTextFile(plan.output / "uncertainty_regions.csv", csv);
}

cv::Mat asTrained(const RunPlan& plan, const cv::Mat& slice) {
  return plan.learn.denoiseInput && !slice.empty() ? intensity::denoise(slice, plan.denoise) : slice;
}

SegmentedSlice segmentSlice(const RunPlan& plan, const SegmentContext& context, int z, const cv::Mat& slice,
                            std::optional<learn::Prediction> madeInOrder) {
  SegmentedSlice out;
  out.z = z;
  cv::Mat labels;
  if (plan.model) {
    // With z context the slice was predicted in order and is already as trained.
    const cv::Mat seen = madeInOrder ? slice : asTrained(plan, slice);
    auto prediction = madeInOrder ? std::move(*madeInOrder)
                                  : plan.model->predict(seen, context.probabilities || context.uncertainty);
    if (plan.learn.refine.bandPx > 0)
      prediction.labels = learn::refineBoundaries(prediction.labels, seen, plan.learn.refine, plan.phases.count());
    labels = prediction.labels;
    for (const auto& p : context.probabilities ? prediction.probabilities : std::vector<cv::Mat>{}) {
      cv::Mat eight;
      p.convertTo(eight, CV_8U, 255.0);
      out.probabilities.push_back(eight);
    }
    if (context.uncertainty) writeUncertainty(plan, context, z, prediction, out);
  } else if (plan.notebook) {
    auto segmentation = segment::segmentLikeNotebook(slice, plan.notebookParams);
    labels = segmentation.labels;
    // Otsu on the denoised 0..1 scale, recorded on the 8-bit grey scale of the histogram
    out.otsuThreshold = int(std::lround(segmentation.camThreshold * 255));
    if (z == plan.previewSlice) {
      io::writePng(plan.output / "preview" / "gabor_response.png", previewImage(segmentation.gaborResponse, plan.previewWidth));
      io::writePng(plan.output / "preview" / "pore_mask.png", previewImage(labels == Pore, plan.previewWidth, true));
    }
  } else {
    auto segmentation =
        segment::segmentSlice(slice, intensity::denoise(slice, plan.denoise), plan.segment, context.stackThreshold);
    labels = segmentation.labels;
    if (context.stackThreshold < 0) out.otsuThreshold = segmentation.camThreshold;
    if (z == plan.previewSlice) {
      cv::Mat response;
      cv::normalize(segmentation.gaborResponse, response, 0, 255, cv::NORM_MINMAX, CV_8U);
      io::writePng(plan.output / "preview" / "gabor_response.png", previewImage(response, plan.previewWidth));
      io::writePng(plan.output / "preview" / "pore_mask.png", previewImage(labels == Pore, plan.previewWidth, true));
    }
  }
  out.fractions = segment::phaseFractions(labels, plan.phases.count());
  out.labelImage = segment::labelImage(labels, plan.phases.values);
  if (plan.slicePngs) {
    // Indexed colour: the same pixels as segment::colourLabels. Indexed by the label image's own
    // grey values, it shares the label PNG's compressed data: one deflate for both files.
    std::vector<std::array<std::uint8_t, 3>> paletteByValue;
    for (int p = 0; p < plan.phases.count(); ++p) {
      const std::size_t value = plan.phases.values[p];
      if (paletteByValue.size() <= value) paletteByValue.resize(value + 1, {0, 0, 0});
      paletteByValue[value] = plan.phases.coloursRgb[p];
    }
    io::writeGreyAndIndexedPng(context.pngFolder / numbered("labels", z), context.pngFolder / numbered("colour", z),
                               out.labelImage, paletteByValue);
  }
  if (z % plan.previewStep == 0)
    io::writePng(plan.output / "preview" / numbered("labels", z), previewImage(labels, plan.previewWidth, true));
  out.labels = labels;
  return out;
}

void finishSegmentation(const RunPlan& plan, const SegmentContext& context, const OrthoSlices& ortho,
                        const BlockFaces& faces) {
  if (plan.slicePngs || context.uncertainty) {
    // The slice PNGs appear all at once, replacing an earlier run's.
    std::error_code ec;
    fs::remove_all(plan.output / "segmented", ec);
    fs::rename(context.pngFolder, plan.output / "segmented", ec);
    if (ec)
      throw Error("cannot move " + context.pngFolder.string() + " to " + (plan.output / "segmented").string() + ": " +
                  ec.message());
  }
  const auto colour = [&](const cv::Mat& face) { return segment::colourLabels(face, plan.phases.coloursRgb); };
  io::writePng(plan.output / "view3d_labels.png", renderBlock(colour(faces.front()), colour(faces.top()),
                                                              colour(faces.side()), depthPerSlice(plan),
                                                              plan.previewWidth, true));
  io::writePng(plan.output / "preview" / "ortho_xz_labels.png", previewImage(ortho.xz(), plan.previewWidth, true));
  io::writePng(plan.output / "preview" / "ortho_yz_labels.png", previewImage(ortho.yz(), plan.previewWidth, true));
}

void writeFractions(const RunPlan& plan, const std::vector<segment::PhaseFractions>& fractions) {
  std::string csv = "slice";
  for (int p = 0; p < plan.phases.count(); ++p) csv += "," + csvField(plan.phases.key(p));
  csv += "\n";
  char cell[32];
  auto addRow = [&](const std::string& first, const std::vector<double>& f) {
    csv += first;
    for (double v : f) {
      std::snprintf(cell, sizeof cell, ",%.5f", v);
      csv += cell;
    }
    csv += "\n";
  };
  for (int z = 0; z < plan.slices; ++z) addRow(std::to_string(z), fractions[z].fraction);
  addRow("total", segment::combineFractions(fractions).fraction);
  writeTextFile(plan.output / "phase_fractions.csv", csv);
}

}  // namespace fibseg::pipeline
