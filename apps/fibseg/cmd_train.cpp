// `fibseg train [CONFIG] --image S.tif --annotation A.png [...] --model OUT.json`: train the pixel
// classifier (learn/learn.hpp) from painted slices. The feature and training parameters come from
// the learn section of CONFIG (the same file `fibseg run` uses, so the model matches it) and
// `--set learn.key=value`; without CONFIG, from the registry defaults.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "commands.hpp"
#include "image_files.hpp"
#include "fibseg/config/load.hpp"
#include "fibseg/core/error.hpp"
#include "fibseg/core/phases.hpp"
#include "fibseg/intensity/denoise.hpp"
#include "fibseg/io/png.hpp"
#include "fibseg/io/tiff.hpp"
#include "fibseg/learn/learn.hpp"

namespace fibseg::cli {
namespace fs = std::filesystem;

void addTrainCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "train", "Train the pixel classifier (segment.method = classifier) from slices with painted strokes");
  struct Options {
    std::string config, model;
    std::string stack;
    std::vector<std::string> images, annotations, overrides;
    std::vector<int> stackSlices;
    int dataBarRows = 0;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("CONFIG", o->config,
                  "Parameter file (.toml or .xlsx) whose learn section sets the features and training; the "
                  "same file then runs the model")->check(CLI::ExistingFile);
  cmd->add_option("--image", o->images,
                  "An annotated slice (PNG or TIFF, 8- or 16-bit), as the pipeline segments it: aligned, cropped "
                  "and brightness-corrected (e.g. a page of aligned.tif). Repeat for more slices")
      ->check(CLI::ExistingFile);
  cmd->add_option("--stack", o->stack,
                  "Instead of --image: an aligned stack (aligned.tif of a run, a multi-page TIFF or a folder of "
                  "slices) whose slices --slice are annotated. Needed with learn.z_context other than none: the "
                  "features then also describe each slice's neighbours z-1 and z+1 in the stack");
  cmd->add_option("--slice", o->stackSlices,
                  "With --stack: an annotated slice's index in the stack (0 = first, as in transforms.csv), one per "
                  "--annotation, in the same order")->check(CLI::NonNegativeNumber);
  cmd->add_option("--annotation", o->annotations,
                  "Strokes painted on the matching --image (same size): grey values phase index + 1 in the order "
                  "of phases.names (default 1 pore, 2 SE, 3 CAM; 0 unpainted), or the phases' colours "
                  "(phases.colours) on black. One per --image")
      ->required()->check(CLI::ExistingFile);
  cmd->add_option("--model", o->model, "Model file to write (.json); default: learn.model from CONFIG");
  cmd->add_option("--set", o->overrides, "Override one parameter: section.key=value (repeatable)");
  cmd->add_option("--data-bar-rows", o->dataBarRows,
                  "Rows of a data bar at the bottom of each image to leave out (annotations may include or "
                  "omit them)")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->callback([o] {
    // Training needs no input/output folders: a parameter file without them is fine here.
    const auto params = config::loadParameters(o->config, o->overrides, config::RequiredValues::MayBeMissing);
    auto learnParams = config::learnParamsFrom(params);
    const PhaseSet phases = config::phasesFrom(params);
    // The model learns from what `fibseg run` will show it: the slice after intensity.denoise
    // when learn.denoise_input is on.
    const auto denoiseAll = config::denoiseParamsFrom(params);
    const auto denoise = learnParams.denoiseInput ? denoiseAll : intensity::noDenoising(denoiseAll);
    const fs::path modelPath = !o->model.empty() ? fs::path(o->model) : learnParams.model;
    if (modelPath.empty())
      throw Error("no model file to write; expected --model OUT.json (or learn.model in the parameter file)");
    if (!o->images.empty() && o->images.size() != o->annotations.size())
      throw Error(std::to_string(o->images.size()) + " --image but " + std::to_string(o->annotations.size()) +
                  " --annotation; expected one annotation per image, in the same order");
    if (o->stack.empty() == o->images.empty())
      throw Error("expected either --image (one per --annotation) or --stack with --slice (one per --annotation)");
    std::vector<ImageSource> stack;
    if (!o->stack.empty()) {
      stack = imageSourcesOf(o->stack, "train --stack");
      if (o->stackSlices.size() != o->annotations.size())
        throw Error(std::to_string(o->stackSlices.size()) + " --slice but " + std::to_string(o->annotations.size()) +
                    " --annotation; expected one --slice per annotation, in the same order");
      for (int z : o->stackSlices)
        if (z >= static_cast<int>(stack.size()))
          throw Error("--slice " + std::to_string(z) + ": " + o->stack + " holds " + std::to_string(stack.size()) +
                      " slices; expected 0 to " + std::to_string(stack.size() - 1));
      for (int z : o->stackSlices) o->images.push_back(stack[z].name());
    } else if (learnParams.features.zContext != "none") {
      throw Error("learn.z_context = " + learnParams.features.zContext +
                  " describes each pixel also by the slices above and below it, which --image does not give; "
                  "expected --stack aligned.tif with --slice N per annotation (or learn.z_context = none)");
    }
    auto readSlice = [&](std::size_t i) {
      return stack.empty() ? readImageFile(o->images[i], false)
                           : readImageFile(stack[o->stackSlices[i]].file, false,
                                           std::max(0, stack[o->stackSlices[i]].page));
    };

    std::vector<learn::AnnotatedSlice> examples;
    for (std::size_t i = 0; i < o->images.size(); ++i) {
      cv::Mat image = readSlice(i);
      cv::Mat painted = readImageFile(o->annotations[i], true);
      const int content = image.rows - o->dataBarRows;
      if (content <= 0)
        throw Error("--data-bar-rows " + std::to_string(o->dataBarRows) + " removes all of " + o->images[i]);
      if (painted.cols != image.cols || (painted.rows != image.rows && painted.rows != content))
        throw Error(o->annotations[i] + " is " + std::to_string(painted.cols) + "x" + std::to_string(painted.rows) +
                    "; expected the size of " + o->images[i] + " (" + std::to_string(image.cols) + "x" +
                    std::to_string(image.rows) + (o->dataBarRows ? ", or without its data bar" : "") + ")");
      image = image.rowRange(0, content).clone();
      painted = painted.rowRange(0, content).clone();
      std::vector<cv::Mat> neighbours;
      // z context, or learn.preset = auto trying it: the strokes are on a stack's slices.
      if (learn::trainingWantsNeighbours(learnParams) && !stack.empty())
        for (int z : {o->stackSlices[i] - 1, o->stackSlices[i] + 1}) {
          if (z < 0 || z >= static_cast<int>(stack.size())) {
            neighbours.emplace_back();  // the stack's end: the other neighbour stands in
            continue;
          }
          cv::Mat neighbour = readImageFile(stack[z].file, false, std::max(0, stack[z].page));
          if (neighbour.size() != cv::Size(image.cols, content + o->dataBarRows))
            throw Error(stack[z].name() + " and " + o->images[i] + " in " + o->stack +
                        " differ in size; expected an aligned stack of equal-sized slices");
          neighbours.push_back(intensity::denoise(neighbour.rowRange(0, content).clone(), denoise));
        }
      examples.push_back({intensity::denoise(image, denoise), learn::annotationFromImage(painted, o->annotations[i], phases),
                          fs::path(o->images[i]).filename().string(), neighbours});
    }

    learn::resolveCnnModel(learnParams.features);
    const auto started = std::chrono::steady_clock::now();
    const learn::TrainingContext context{phases.names, phases.values, phases.coloursRgb, 0,
                                         intensity::describeDenoise(denoise)};
    const auto model = learn::trainModel(examples, learnParams, context);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    model.save(modelPath);

    // How well the model reproduces the strokes it learned from: a low figure means the features
    // cannot tell the painted phases apart (or strokes contradict each other).
    long long agree = 0, painted = 0;
    std::vector<long long> perPhase(phases.count(), 0);
    for (const auto& e : examples) {
      const cv::Mat labels = model.predict(e.slice, e.neighbours).labels;
      for (int y = 0; y < labels.rows; ++y)
        for (int x = 0; x < labels.cols; ++x) {
          const int a = e.annotation.at<std::uint8_t>(y, x);
          if (!a) continue;
          ++painted;
          ++perPhase[a - 1];
          agree += labels.at<std::uint8_t>(y, x) == a - 1;
        }
    }
    std::string counts;
    for (int p = 0; p < phases.count(); ++p)
      counts += (p ? ", " : "") + phases.names[p] + " " + std::to_string(perPhase[p]);
    std::printf("train: %zu slices, painted pixels: %s; denoise %s; %zu features per pixel; %.1f s\n",
                examples.size(), counts.c_str(), context.denoise.c_str(),
                learn::featureNames(model.featureSpec()).size(), seconds);
    std::printf("train: the model agrees with %.2f%% of the painted pixels\n", 100.0 * agree / std::max(1LL, painted));
    if (!model.presetChoiceText().empty())
      std::printf("train: learn.preset = auto, %s", model.presetChoiceText().c_str());
    std::printf("train: wrote %s (use it with segment.method = classifier, learn.model = that file)\n",
                modelPath.string().c_str());
  });
}

}  // namespace fibseg::cli
