// `fibseg predict MODEL INPUT --out DIR`: a trained pixel classifier applied to images as they
// are (one file, a folder of files, or the pages of a multi-page TIFF): no data-bar cut, no
// registration, no brightness correction; only the denoising the model was trained with. For
// single SEM images and for stacks aligned elsewhere.
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "commands.hpp"
#include "image_files.hpp"
#include "fibseg/config/load.hpp"
#include "fibseg/core/atomic_file.hpp"
#include "fibseg/core/error.hpp"
#include "fibseg/core/image.hpp"
#include "fibseg/core/phases.hpp"
#include "fibseg/core/text.hpp"
#include "fibseg/intensity/denoise.hpp"
#include "fibseg/io/png.hpp"
#include "fibseg/io/tiff.hpp"
#include "fibseg/learn/learn.hpp"
#include "fibseg/segment/segment.hpp"

namespace fibseg::cli {
namespace fs = std::filesystem;

namespace {

/// The phases to write: the parameters' when any phases.* value was given, else the model's.
PhaseSet phasesFor(const config::ParamSet& params, const learn::Classifier& model) {
  const bool given = params.resolved("phases.names").origin != "default" ||
                     params.resolved("phases.values").origin != "default" ||
                     params.resolved("phases.colours").origin != "default";
  const auto& trained = model.context();
  if (!given && trained.phaseValues.size() == trained.phaseNames.size() &&
      trained.phaseColoursRgb.size() == trained.phaseNames.size()) {
    PhaseSet phases{trained.phaseNames, trained.phaseValues, trained.phaseColoursRgb};
    phases.check("the model's phases");
    return phases;
  }
  return config::phasesFrom(params);
}

/// 16-bit -> 8-bit: grey / 257 (65535 -> 255, rounded); 8-bit -> 16-bit: grey x 257. Linear maps
/// of the full range, so a model trained on one depth sees the same relative grey levels.
cv::Mat convertDepth(const cv::Mat& image, int toBits) {
  cv::Mat out;
  if (toBits == 8) image.convertTo(out, CV_8U, 1.0 / 257.0);
  else image.convertTo(out, CV_16U, 257.0);
  return out;
}

}  // namespace

void addPredictCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "predict", "Apply a trained pixel classifier to images as they are (a file, a folder or a multi-page TIFF), "
                 "without registration");
  struct Options {
    std::string model, input, out, config;
    std::vector<std::string> overrides;
    bool probabilities = false, uncertainty = false, convertBitDepth = false, overwrite = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("MODEL", o->model, "Model file written by `fibseg train`")->required()->check(CLI::ExistingFile);
  cmd->add_option("INPUT", o->input, "An image (.png, .tif), a folder of them, or a multi-page TIFF")->required();
  cmd->add_option("--out", o->out, "Folder to write labels_NNNN.png, colour_NNNN.png, images.csv and "
                                   "phase_fractions.csv into")->required();
  cmd->add_option("--params", o->config, "Parameter file (.toml or .xlsx): its phases and intensity.denoise* "
                                         "values are used (default: the model's phases, registry denoising)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--set", o->overrides, "Override one parameter: section.key=value (repeatable)");
  cmd->add_flag("--probabilities", o->probabilities,
                "Also write probability_<phase>_NNNN.png: each phase's probability x 255");
  cmd->add_flag("--uncertainty", o->uncertainty,
                "Also write uncertainty_NNNN.png: the entropy of the phase probabilities / log(phases) x 255 "
                "(0 = sure, 255 = all phases equally likely: paint strokes there next), and print each image's "
                "mean and its least certain 64 x 64 px windows");
  cmd->add_flag("--convert-bit-depth", o->convertBitDepth,
                "Accept images of another bit depth than the training images: 16-bit grey / 257 -> 8-bit, "
                "8-bit grey x 257 -> 16-bit (without it, such images are an error)");
  cmd->add_flag("--overwrite", o->overwrite, "Replace the outputs of an earlier predict in --out");
  cmd->callback([o] {
    const auto params = config::loadParameters(o->config, o->overrides, config::RequiredValues::MayBeMissing);
    const auto model = learn::Classifier::load(o->model);
    const PhaseSet phases = phasesFor(params, model);
    model.requirePhases(phases.names, "model " + o->model);
    const auto denoiseAll = config::denoiseParamsFrom(params);
    const auto denoise =
        config::learnParamsFrom(params).denoiseInput ? denoiseAll : intensity::noDenoising(denoiseAll);
    const std::string denoiseText = intensity::describeDenoise(denoise);
    // learn.refine_band, or (learn.preset = auto) what training chose
    const learn::BoundaryRefinement refine = learn::refinementFor(config::learnParamsFrom(params), model);
    const auto& trained = model.context();
    if (trained.denoise != denoiseText)
      throw Error("model " + o->model + " was trained on images denoised with '" + trained.denoise +
                  "', but the parameters denoise with '" + denoiseText +
                  "' (intensity.denoise*, learn.denoise_input); expected the same denoising as in training");
    const auto sources = imageSourcesOf(o->input, "predict INPUT");
    const fs::path out = o->out;
    ensureWritableFolder(out);
    if (fs::exists(out / "images.csv") && !o->overwrite)
      throw Error("output folder " + out.string() + " already holds predictions; pass --overwrite to replace them");

    std::string table = "index,file,page,width,height,bit_depth\n";
    std::string fractionsCsv = "index";
    for (int p = 0; p < phases.count(); ++p) fractionsCsv += "," + csvField(phases.key(p));
    fractionsCsv += "\n";
    std::vector<segment::PhaseFractions> all;
    char name[64];
    // An image as the model sees it: at the training bit depth (when converting is allowed) and
    // denoised as in training.
    auto imageAsTrained = [&](const ImageSource& source, int* depthRead) {
      cv::Mat image = readImageFile(source.file, false, std::max(0, source.page));
      const int depth = bitDepthOf(image, source.name());
      if (depthRead) *depthRead = depth;
      if (trained.bitDepth && depth != trained.bitDepth) {
        if (!o->convertBitDepth)
          throw Error(source.name() + " is " + std::to_string(depth) + "-bit, but model " + o->model +
                      " was trained on " + std::to_string(trained.bitDepth) +
                      "-bit images; expected the same bit depth, or pass --convert-bit-depth (16-bit / 257 -> 8-bit, "
                      "8-bit x 257 -> 16-bit)");
        image = convertDepth(image, trained.bitDepth);
      }
      return intensity::denoise(image, denoise);
    };
    // A model with z context describes a pixel also by the slices above and below: the input
    // must be an aligned stack, whose neighbouring images are those slices.
    if (model.needsNeighbours() && sources.size() < 2)
      throw Error("model " + o->model + " was trained with learn.z_context = " + model.featureSpec().zContext +
                  ": it needs each slice's aligned neighbours, but " + o->input +
                  " holds a single image; expected an aligned stack (a multi-page TIFF or a folder of slices), or a "
                  "model trained with learn.z_context = none for single images");
    std::vector<int> depths;  // of each image read
    cv::Size prevSize;
    auto write = [&](int z, const learn::Prediction& prediction) {
      const std::size_t i = static_cast<std::size_t>(z);
      const ImageSource& source = sources[i];
      std::snprintf(name, sizeof name, "_%04zu.png", i);
      io::writePng(out / ("labels" + std::string(name)), segment::labelImage(prediction.labels, phases.values));
      io::writePng(out / ("colour" + std::string(name)), segment::colourLabels(prediction.labels, phases.coloursRgb));
      if (o->uncertainty) {
        cv::Mat eight;
        prediction.uncertainty.convertTo(eight, CV_8U, 255.0);
        io::writePng(out / ("uncertainty" + std::string(name)), eight);
        std::string where;
        for (const auto& r : learn::leastCertainRegions(prediction.uncertainty, 3, 64)) {
          char w[96];
          std::snprintf(w, sizeof w, "%s x %d-%d y %d-%d (%.2f)", where.empty() ? "" : ",", r.box.x,
                        r.box.x + r.box.width - 1, r.box.y, r.box.y + r.box.height - 1, r.meanUncertainty);
          where += w;
        }
        std::printf("predict: %s: mean uncertainty %.3f; least certain:%s\n", source.name().c_str(),
                    cv::mean(prediction.uncertainty)[0], where.c_str());
      }
      for (std::size_t p = 0; o->probabilities && p < prediction.probabilities.size(); ++p) {
        cv::Mat eight;
        prediction.probabilities[p].convertTo(eight, CV_8U, 255.0);
        io::writePng(out / ("probability_" + phases.key(static_cast<int>(p)) + name), eight);
      }
      table += std::to_string(i) + "," + csvField(source.file.string()) + "," +
               (source.page >= 0 ? std::to_string(source.page) : std::string()) + "," +
               std::to_string(prediction.labels.cols) + "," + std::to_string(prediction.labels.rows) + "," +
               std::to_string(depths[i]) + "\n";
      all.push_back(segment::phaseFractions(prediction.labels, phases.count()));
      fractionsCsv += std::to_string(i);
      for (double f : all.back().fraction) {
        char cell[32];
        std::snprintf(cell, sizeof cell, ",%.5f", f);
        fractionsCsv += cell;
      }
      fractionsCsv += "\n";
    };
    // In order: with z context each image's features also describe its neighbours' pixels.
    learn::StackPredictor inOrder(model, o->probabilities || o->uncertainty, write, refine);
    for (std::size_t i = 0; i < sources.size(); ++i) {
      int depth = 0;
      const cv::Mat image = imageAsTrained(sources[i], &depth);
      depths.push_back(depth);
      if (model.needsNeighbours() && i > 0 && image.size() != prevSize)
        throw Error(sources[i].name() + " and its neighbour in " + o->input +
                    " differ in size; a model with z context needs an aligned stack of equal-sized slices");
      prevSize = image.size();
      inOrder.add(image);
    }
    inOrder.finish();
    const auto total = segment::combineFractions(all).fraction;
    fractionsCsv += "total";
    for (double f : total) {
      char cell[32];
      std::snprintf(cell, sizeof cell, ",%.5f", f);
      fractionsCsv += cell;
    }
    writeTextFile(out / "phase_fractions.csv", fractionsCsv + "\n");
    writeTextFile(out / "images.csv", table);
    std::string summary;
    for (int p = 0; p < phases.count(); ++p) {
      char f[96];
      std::snprintf(f, sizeof f, "%s %s %.3f", p ? "," : "", phases.names[p].c_str(), total[p]);
      summary += f;
    }
    std::printf("predict: %zu images -> %s;%s\n", sources.size(), out.string().c_str(), summary.c_str());
  });
}

}  // namespace fibseg::cli
