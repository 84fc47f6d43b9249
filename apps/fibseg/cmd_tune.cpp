// `fibseg tune --image SLICE --sheet OUT.png [--annotation A.png] [--write-config P.toml]`: sweep
// Gabor parameter sets on one slice; with an annotation, pick the set and pore threshold that best
// match the painted pores vs SE and write them into a parameter file (segment/tune.hpp).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "commands.hpp"
#include "image_files.hpp"
#include "fibseg/core/atomic_file.hpp"
#include "fibseg/core/error.hpp"
#include "fibseg/io/png.hpp"
#include "fibseg/io/tiff.hpp"
#include "fibseg/segment/segment.hpp"
#include "fibseg/segment/tune.hpp"

namespace fibseg::cli {
namespace {

namespace fs = std::filesystem;

cv::Mat withoutDataBar(const cv::Mat& image, int rows, const fs::path& path) {
  if (rows <= 0) return image;
  if (rows >= image.rows)
    throw Error("--data-bar-rows " + std::to_string(rows) + " removes all of " + path.string() + " (" +
                std::to_string(image.rows) + " rows); expected fewer rows than the image has");
  return image(cv::Rect(0, 0, image.cols, image.rows - rows));
}

std::string describe(const segment::TuneCandidate& c) {
  const auto& g = c.gabor;
  char line[256];
  std::snprintf(line, sizeof line,
                "kernel %3d  sigma %-5g theta %-5g lambda %-5g gamma %-4g psi %-4g threshold %-10.6g", g.kernelSize,
                g.sigma, g.thetaDeg, g.lambda, g.gamma, g.psiDeg, c.threshold);
  return line;
}

std::string readText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

void addTuneCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("tune", "Sweep Gabor filter settings on one slice; with a painted annotation, "
                                         "choose the best and write them to a parameter file");
  struct Options {
    std::string image, annotation, sheet, config, convolution = "auto";
    int slice = 0, dataBarRows = 0, tileWidth = 256, maxTiles = 48, otsuThreshold = -1, show = 5;
    segment::GaborSweep sweep = segment::defaultGaborSweep();
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("--image", o->image, "The slice (PNG or TIFF, 8- or 16-bit), aligned and cropped as the "
                                       "pipeline would segment it")->required()->check(CLI::ExistingFile);
  cmd->add_option("--slice", o->slice, "Page of a multi-page TIFF --image, from 0; e.g. a run's aligned, corrected "
                                      "stack OUTPUT/cache/corrected.tif")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--annotation", o->annotation,
                  "Painted pixels of the same slice: grey values 1 pore, 2 SE, 3 CAM (0 unpainted), or painted "
                  "light grey (pore), orange (SE), blue (CAM): the default phases.colours")->check(CLI::ExistingFile);
  cmd->add_option("--sheet", o->sheet, "Contact sheet PNG: the pore mask of each parameter set, labelled")->required();
  cmd->add_option("--write-config", o->config,
                  "Parameter file (TOML) to put the chosen values in: created, or its [segment] section updated "
                  "(needs --annotation)");
  cmd->add_option("--data-bar-rows", o->dataBarRows, "Rows to cut off the bottom of --image/--annotation "
                                                     "(the microscope's data bar)")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--otsu-threshold", o->otsuThreshold,
                  "Active-material threshold to use (e.g. the stack threshold from run.json); -1 = Otsu of this slice")
      ->capture_default_str();
  cmd->add_option("--kernel-sizes", o->sweep.kernelSizes, "Gabor window sizes to try, px (odd)")
      ->delimiter(',')->capture_default_str();
  cmd->add_option("--sigmas", o->sweep.sigmas, "Gabor envelope widths to try, px")->delimiter(',')->capture_default_str();
  cmd->add_option("--thetas", o->sweep.thetasDeg, "Gabor orientations to try, degrees")->delimiter(',')->capture_default_str();
  cmd->add_option("--lambdas", o->sweep.lambdas, "Gabor wavelengths to try, px")->delimiter(',')->capture_default_str();
  cmd->add_option("--gammas", o->sweep.gammas, "Gabor aspect ratios to try")->delimiter(',')->capture_default_str();
  cmd->add_option("--psis", o->sweep.psisDeg, "Gabor phase offsets to try, degrees")->delimiter(',')->capture_default_str();
  cmd->add_option("--convolution", o->convolution, "auto, opencv, spatial or dft (same result, different speed)")
      ->capture_default_str()->check(CLI::IsMember({"auto", "opencv", "spatial", "dft"}));
  cmd->add_option("--tile-width", o->tileWidth, "Width of each contact-sheet tile, px")->capture_default_str()->check(CLI::Range(32, 4096));
  cmd->add_option("--max-tiles", o->maxTiles, "Most tiles on the contact sheet (best first with an annotation)")
      ->capture_default_str()->check(CLI::Range(1, 10000));

  cmd->callback([o] {
    if (!o->config.empty() && o->annotation.empty())
      throw Error("--write-config needs --annotation: without painted pores and SE there is nothing to choose by; "
                  "pick a tile on the contact sheet and copy its values instead");
    const segment::Convolution method = o->convolution == "spatial"  ? segment::Convolution::Spatial
                                        : o->convolution == "dft"    ? segment::Convolution::Dft
                                        : o->convolution == "opencv" ? segment::Convolution::OpenCv
                                                                     : segment::Convolution::Auto;
    const cv::Mat slice = withoutDataBar(readImageFile(o->image, false, o->slice), o->dataBarRows, o->image);
    const int camThreshold = o->otsuThreshold >= 0 ? o->otsuThreshold : segment::otsuThreshold(slice);
    const cv::Mat cam = segment::camMask(slice, camThreshold);
    const std::size_t sets = segment::expandSweep(o->sweep).size();
    std::cout << "tune: " << o->image << (o->slice ? " page " + std::to_string(o->slice) : std::string()) << " (" << slice.cols << "x" << slice.rows << "), active material above grey "
              << camThreshold << " (" << (o->otsuThreshold >= 0 ? "given" : "Otsu") << "), " << sets
              << " Gabor parameter sets\n";

    std::vector<segment::TuneCandidate> shown;
    if (!o->annotation.empty()) {
      cv::Mat painted = readImageFile(o->annotation, true);
      if (painted.rows == slice.rows + o->dataBarRows && o->dataBarRows > 0)
        painted = withoutDataBar(painted, o->dataBarRows, o->annotation);
      if (painted.size() != slice.size())
        throw Error(o->annotation + ": " + std::to_string(painted.cols) + "x" + std::to_string(painted.rows) +
                    "; expected the size of the slice " + std::to_string(slice.cols) + "x" + std::to_string(slice.rows) +
                    " (with or without its data bar)");
      const cv::Mat annotation = segment::annotationLabels(painted, o->annotation);
      const segment::TuneResult result = segment::tuneGabor(slice, cam, annotation, o->sweep, method);
      std::printf("painted pixels: %lld pore, %lld SE, %lld CAM; the Otsu mask agrees with %.1f%% of them on CAM\n",
                  result.paintedPore, result.paintedSe, result.paintedCam, 100 * result.camAgreement);
      std::printf("score = mean IoU of the phases over the painted pixels (pore IoU, SE IoU, balanced accuracy)\n");
      for (int i = 0; i < std::min<int>(o->show, int(result.candidates.size())); ++i) {
        const auto& c = result.candidates[i];
        std::printf("%s #%d  score %.4f  (%.3f, %.3f, %.3f)\n", i == 0 ? "best" : "    ", i + 1, c.score, c.poreIou,
                    c.seIou, c.balancedAccuracy);
        std::printf("        %s\n", describe(c).c_str());
      }
      shown = result.candidates;
      if (!o->config.empty()) {
        const fs::path path = o->config;
        const bool existed = fs::exists(path);
        const std::string text = existed ? segment::mergeTuneResultIntoToml(readText(path), result.best)
                                                  : segment::tuneResultToml(result.best);
        writeTextFile(path, text);
        std::cout << (existed ? "wrote the chosen values into " : "wrote ") << path.string() << "\n";
      }
    } else {
      shown = segment::untunedCandidates(slice, cam, o->sweep, method);
      std::cout << "no annotation: each set's threshold is placed by Otsu on its response; pick by eye\n";
    }
    if (int(shown.size()) > o->maxTiles)
      std::cout << "contact sheet shows " << o->maxTiles << " of " << shown.size()
                << " sets (--max-tiles; narrow the sweep to see the rest)\n";
    io::writePng(o->sheet, segment::contactSheet(slice, cam, shown, o->tileWidth, o->maxTiles, method));
    std::cout << "contact sheet: " << o->sheet << "\n";
  });
}

}  // namespace fibseg::cli
