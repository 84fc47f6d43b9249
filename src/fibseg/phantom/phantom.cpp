#include "fibseg/phantom/phantom.hpp"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <random>

#include "fibseg/core/error.hpp"
#include "fibseg/core/image.hpp"

namespace fibseg::phantom {

namespace {

constexpr float kPoreGrey = 38, kSeGrey = 112, kCamGrey = 188;  // 8-bit scale
constexpr float kCapGrey = 150;
constexpr int kPoreBackDepth = 8;  // slices looked through a pore for material behind it

// One generator per slice, derived from the seed, so slices can be rendered in any order or in
// parallel and still come out identical.
std::mt19937_64 sliceRng(unsigned seed, int z, int purpose) {
  std::seed_seq seq{seed, static_cast<unsigned>(z), static_cast<unsigned>(purpose), 0x5eedu};
  return std::mt19937_64(seq);
}

// Expected r^3 for r uniform in [lo, hi] * mean, in units of mean^3.
double meanCube(double lo, double hi) { return (std::pow(hi, 4) - std::pow(lo, 4)) / (4 * (hi - lo)); }

}  // namespace

Phantom::Phantom(const PhantomParams& p) : params_(p) {
  if (p.width < 32 || p.height < 32) throw Error("phantom: width and height must be at least 32 px");
  if (p.slices < 1) throw Error("phantom: at least one slice");
  if (p.bitDepth != 8 && p.bitDepth != 16) throw Error("phantom: bit depth must be 8 or 16");
  if (p.camFraction < 0 || p.poreFraction < 0 || p.camFraction + p.poreFraction >= 0.95)
    throw Error("phantom: CAM and pore fractions must be >= 0 and sum below 0.95");
  barRows_ = p.dataBarRows >= 0 ? p.dataBarRows : std::max(16, int(std::lround(p.height * 0.07)));
  if (barRows_ >= p.height - 16) throw Error("phantom: data bar leaves no image");
  if (p.capRows < 0 || p.capRows > (p.height - barRows_) / 2)
    throw Error("phantom: cap rows must be between 0 and half the image height");

  // Drift: steady component plus a random walk, accumulated from slice 0.
  std::mt19937_64 rng(p.seed);
  std::normal_distribution<double> step(0.0, p.randomWalk);
  shifts_.assign(p.slices, {0, 0});
  double maxShift = 0;
  for (int z = 1; z < p.slices; ++z) {
    // The random steps are drawn y first, in separate statements: C++ leaves the order of a
    // call's arguments open (GCC went right to left, clang left to right), and the phantom must
    // be the same whichever compiler built it. y first keeps the phantoms GCC made before.
    const double stepY = step(rng), stepX = step(rng);
    shifts_[z] = shifts_[z - 1] + cv::Point2d(p.steadyDriftX + stepX, p.steadyDriftY + stepY);
    maxShift = std::max({maxShift, std::fabs(shifts_[z].x), std::fabs(shifts_[z].y)});
  }
  margin_ = int(std::ceil(maxShift)) + 8;

  // Spheres placed independently (a Boolean model): covered fraction = 1 - exp(-n V / box), so
  // n follows from the wanted fraction. Pores fill the non-CAM space to the wanted pore fraction.
  const double camR = p.camRadius > 0 ? p.camRadius : 0.06 * std::min(p.width, p.height - barRows_);
  const double poreR = p.poreRadius > 0 ? p.poreRadius : 0.4 * camR;
  maxCamRadius_ = 1.4 * camR;
  maxPoreRadius_ = 1.5 * poreR;
  const double pad = maxCamRadius_;
  const double x0 = -margin_ - pad, x1 = p.width + margin_ + pad;
  const double y0 = -margin_ - pad, y1 = contentHeight() + margin_ + pad;
  const double z0 = -pad, z1 = p.slices + kPoreBackDepth + pad;
  const double box = (x1 - x0) * (y1 - y0) * (z1 - z0);
  std::uniform_real_distribution<double> ux(x0, x1), uy(y0, y1), uz(z0, z1), unit(0, 1);

  const double camVolume = 4.0 / 3.0 * M_PI * std::pow(camR, 3) * meanCube(0.6, 1.4);
  const auto camCount = std::llround(-std::log(1 - p.camFraction) * box / camVolume);
  for (long long i = 0; i < camCount; ++i)
    cam_.push_back({ux(rng), uy(rng), uz(rng), camR * (0.6 + 0.8 * unit(rng)),
                    float(kCamGrey + 30 * (unit(rng) - 0.5))});
  const double poreVolume = 4.0 / 3.0 * M_PI * std::pow(poreR, 3) * meanCube(0.5, 1.5);
  const double poreCoverOfRest = p.poreFraction / (1 - p.camFraction);
  const auto poreCount = std::llround(-std::log(1 - poreCoverOfRest) * box / poreVolume);
  for (long long i = 0; i < poreCount; ++i)
    pores_.push_back({ux(rng), uy(rng), uz(rng), poreR * (0.5 + unit(rng)), 0});
  auto byZ = [](const Sphere& a, const Sphere& b) { return a.z < b.z; };
  std::sort(cam_.begin(), cam_.end(), byZ);
  std::sort(pores_.begin(), pores_.end(), byZ);

  // Curtaining: milling leaves vertical stripes fixed in the frame (they do not move with the
  // drifting content), a few px wide, some strong. They persist from slice to slice.
  curtainProfile_ = cv::Mat::zeros(1, p.width, CV_32F);
  std::normal_distribution<double> amplitude(0.0, 1.0);
  const int stripes = std::max(4, p.width / 12);
  for (int s = 0; s < stripes; ++s) {
    const double centre = unit(rng) * p.width, width = 0.7 + 2.0 * unit(rng), a = amplitude(rng);
    for (int x = std::max(0, int(centre - 4 * width)); x < std::min(p.width, int(centre + 4 * width) + 1); ++x)
      curtainProfile_.at<float>(x) += float(a * std::exp(-0.5 * std::pow((x - centre) / width, 2)));
  }
}

// Labels of the sample's plane z in world coordinates (frame + margin on each side); optionally
// the grey level of each CAM pixel's grain.
cv::Mat Phantom::worldLabels(int z, cv::Mat* camGrey) const {
  const int w = params_.width + 2 * margin_, h = contentHeight() + 2 * margin_;
  cv::Mat labels(h, w, CV_8U, cv::Scalar(SolidElectrolyte));
  if (camGrey) *camGrey = cv::Mat(h, w, CV_32F, cv::Scalar(0));
  auto paint = [&](const std::vector<Sphere>& spheres, double maxR, auto&& onPixel) {
    const auto first = std::lower_bound(spheres.begin(), spheres.end(), z - maxR,
                                        [](const Sphere& s, double v) { return s.z < v; });
    for (auto it = first; it != spheres.end() && it->z <= z + maxR; ++it) {
      const double dz = z - it->z, r2 = it->r * it->r - dz * dz;
      if (r2 <= 0) continue;
      const double r = std::sqrt(r2), cx = it->x + margin_, cy = it->y + margin_;
      const int ya = std::max(0, int(std::ceil(cy - r))), yb = std::min(h - 1, int(std::floor(cy + r)));
      for (int y = ya; y <= yb; ++y) {
        const double half = std::sqrt(std::max(0.0, r2 - (y - cy) * (y - cy)));
        const int xa = std::max(0, int(std::ceil(cx - half))), xb = std::min(w - 1, int(std::floor(cx + half)));
        for (int x = xa; x <= xb; ++x) onPixel(y, x, *it);
      }
    }
  };
  paint(pores_, maxPoreRadius_, [&](int y, int x, const Sphere&) { labels.at<uchar>(y, x) = Pore; });
  // Grains are solid: where a grain and a pore overlap, the grain wins (pores sit between grains).
  paint(cam_, maxCamRadius_, [&](int y, int x, const Sphere& s) {
    uchar& label = labels.at<uchar>(y, x);
    if (label != ActiveMaterial && camGrey) camGrey->at<float>(y, x) = s.grey;
    label = ActiveMaterial;
  });
  return labels;
}

// Ideal (noise-free, unshifted) BSE intensity of plane z in world coordinates, 8-bit scale.
cv::Mat Phantom::worldIntensity(int z) const {
  cv::Mat camGrey;
  const cv::Mat labels = worldLabels(z, &camGrey);
  auto rng = sliceRng(params_.seed, z, 1);
  std::normal_distribution<float> gauss(0, 1);

  // SE: mid grey with a fine texture (nano-porous binder/electrolyte); CAM: grain grey levels.
  cv::Mat texture(labels.size(), CV_32F);
  for (auto it = texture.begin<float>(); it != texture.end<float>(); ++it) *it = gauss(rng);
  cv::GaussianBlur(texture, texture, cv::Size(0, 0), 1.2);
  texture *= 8.0 / 0.33;  // blurred unit noise has sigma ~0.33 at this width
  cv::Mat image(labels.size(), CV_32F, cv::Scalar(kSeGrey));
  image += texture;
  camGrey.copyTo(image, labels == ActiveMaterial);

  // Pores: the BSE detector sees, dimmed and defocused, the material behind the pore.
  const cv::Mat pore = labels == Pore;
  cv::Mat behind(labels.size(), CV_32F, cv::Scalar(kPoreGrey));
  cv::Mat found = cv::Mat::zeros(labels.size(), CV_8U);
  for (int d = 1; d <= kPoreBackDepth && cv::countNonZero(pore & ~found) > 0; ++d) {
    cv::Mat deeperCam;
    const cv::Mat deeper = worldLabels(z + d, &deeperCam);
    const cv::Mat material = pore & ~found & (deeper != Pore);
    const float weight = float(params_.poreBack * std::exp(-(d - 1) / 3.0));
    cv::Mat seen(labels.size(), CV_32F, cv::Scalar(kSeGrey));
    deeperCam.copyTo(seen, deeper == ActiveMaterial);
    seen = kPoreGrey + weight * (seen - kPoreGrey);
    seen.copyTo(behind, material);
    found |= material;
  }
  cv::GaussianBlur(behind, behind, cv::Size(0, 0), 2.0);
  behind.copyTo(image, pore);

  // Protective cap: the top of the world, the same texture in every slice (seeded without z).
  const int capEnd = std::min(image.rows, margin_ + params_.capRows);
  if (params_.capRows > 0 && capEnd > 0) {
    auto capRng = sliceRng(params_.seed, 0, 3);
    std::normal_distribution<float> capGauss(0, 1);  // its own: a distribution caches values
    cv::Mat cap(capEnd, image.cols, CV_32F);
    for (auto it = cap.begin<float>(); it != cap.end<float>(); ++it) *it = capGauss(capRng);
    cv::GaussianBlur(cap, cap, cv::Size(0, 0), 1.5);
    cap = kCapGrey + cap * (25.0 / 0.19);  // blurred unit noise has sigma ~0.19 at this width
    cap.copyTo(image(cv::Rect(0, 0, image.cols, capEnd)));
  }
  return image;
}

cv::Mat Phantom::truthLabels(int z) const {
  const cv::Mat world = worldLabels(z, nullptr);
  return world(cv::Rect(margin_, margin_, params_.width, contentHeight())).clone();
}

cv::Mat Phantom::rawSlice(int z) const {
  const PhantomParams& p = params_;
  cv::Mat world = worldIntensity(z);
  if (p.blur > 0) cv::GaussianBlur(world, world, cv::Size(0, 0), p.blur);

  // Content drift: image = sample shifted by shift(z); the world's origin sits at +margin.
  const cv::Point2d s = shifts_.at(z);
  const cv::Matx23d move(1, 0, s.x - margin_, 0, 1, s.y - margin_);
  cv::Mat frame;
  cv::warpAffine(world, frame, move, cv::Size(p.width, contentHeight()), cv::INTER_CUBIC, cv::BORDER_REFLECT);

  auto rng = sliceRng(p.seed, z, 2);
  std::normal_distribution<double> gauss(0, 1);
  // Curtains persist but flicker a little from slice to slice and fade towards the bottom.
  const double curtainScale = p.curtaining * (1 + 0.15 * gauss(rng));
  for (int y = 0; y < frame.rows; ++y) {
    const float fade = float(curtainScale * (1.0 - 0.5 * y / frame.rows));
    const float shade = float(1.0 - p.shading * y / frame.rows);
    float* row = frame.ptr<float>(y);
    const float* curtain = curtainProfile_.ptr<float>();
    for (int x = 0; x < frame.cols; ++x) row[x] = row[x] * shade + fade * curtain[x];
  }
  const double trend = p.slices > 1 ? p.brightnessTrend * z / (p.slices - 1) : 0;
  const double gain = 1 + trend + p.gainJitter * gauss(rng), offset = p.offsetJitter * gauss(rng);
  frame = frame * gain + offset;
  cv::Mat noise(frame.size(), CV_32F);
  for (auto it = noise.begin<float>(); it != noise.end<float>(); ++it) *it = float(p.noise * gauss(rng));
  frame += noise;

  // Data bar: the microscope's dark strip with white text and a scale bar.
  cv::Mat full(p.height, p.width, CV_32F, cv::Scalar(22));
  frame.copyTo(full(cv::Rect(0, 0, p.width, frame.rows)));
  if (barRows_ > 0) {
    cv::Mat bar = full(cv::Rect(0, frame.rows, p.width, barRows_));
    const double scale = std::max(0.3, barRows_ / 45.0);
    const std::string text = "HV 2.00 kV  WD 4.1 mm  BSE  slice " + std::to_string(z + 1);
    cv::putText(bar, text, cv::Point(6, int(barRows_ * 0.65)), cv::FONT_HERSHEY_SIMPLEX, scale,
                cv::Scalar(235), 1, cv::LINE_AA);
    cv::rectangle(bar, cv::Point(p.width - p.width / 6 - 8, barRows_ / 2 - 1),
                  cv::Point(p.width - 8, barRows_ / 2 + 1), cv::Scalar(235), cv::FILLED);
  }
  cv::Mat out;
  const double toDepth = p.bitDepth == 16 ? 257.0 : 1.0;
  full.convertTo(out, p.bitDepth == 16 ? CV_16U : CV_8U, toDepth);  // saturating
  return out;
}

}  // namespace fibseg::phantom
