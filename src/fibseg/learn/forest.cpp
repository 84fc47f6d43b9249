#include "fibseg/learn/forest.hpp"

#include <algorithm>
#include <limits>
#include <string>

#include "fibseg/core/error.hpp"

namespace fibseg::learn::detail {

namespace {

int asInt(const nlohmann::json& v) { return v.is_string() ? std::stoi(v.get<std::string>()) : v.get<int>(); }

}  // namespace

Forest Forest::fromXGBoostJson(const nlohmann::json& model) {
  Forest f;
  try {
    const auto& learner = model.at("learner");
    const auto& param = learner.at("learner_model_param");
    f.classes_ = asInt(param.at("num_class"));
    f.features_ = asInt(param.at("num_feature"));
    const auto& booster = learner.at("gradient_booster");
    if (booster.at("name") != "gbtree")
      throw Error("XGBoost model: booster '" + booster.at("name").get<std::string>() + "'; expected gbtree");
    const auto& trees = booster.at("model").at("trees");
    const auto& info = booster.at("model").at("tree_info");
    for (std::size_t t = 0; t < trees.size(); ++t) {
      const auto& tree = trees[t];
      const auto left = tree.at("left_children").get<std::vector<int>>();
      const auto right = tree.at("right_children").get<std::vector<int>>();
      const auto split = tree.at("split_conditions").get<std::vector<float>>();
      const auto feature = tree.at("split_indices").get<std::vector<int>>();
      const auto type = tree.at("split_type").get<std::vector<int>>();
      const int base = static_cast<int>(f.nodes_.size());
      f.root_.push_back(base);
      f.class_.push_back(info.at(t).get<int>());
      for (std::size_t n = 0; n < left.size(); ++n) {
        const bool leaf = left[n] < 0;
        if (!leaf && (type.at(n) != 0 || feature[n] < 0 || feature[n] >= f.features_))
          throw Error("XGBoost model: a split this predictor cannot evaluate (categorical or bad feature)");
        const int self = base + static_cast<int>(n);
        f.nodes_.push_back(leaf ? Node{0, std::numeric_limits<float>::infinity(), self, self}
                                : Node{feature[n], split[n], base + left[n], base + right[n]});
        f.leafValue_.push_back(leaf ? split[n] : 0.0f);
      }
      // Depth by walking from the root (pruned nodes may sit anywhere in the arrays).
      int deepest = 0;
      std::vector<std::pair<int, int>> stack{{0, 0}};
      while (!stack.empty()) {
        const auto [n, d] = stack.back();
        stack.pop_back();
        if (n < 0 || n >= static_cast<int>(left.size()) || d > 64)
          throw Error("XGBoost model: malformed tree " + std::to_string(t));
        deepest = std::max(deepest, d);
        if (left[n] >= 0) {
          stack.push_back({left[n], d + 1});
          stack.push_back({right[n], d + 1});
        }
      }
      f.depth_.push_back(deepest);
    }
    if (f.class_.empty() || f.classes_ < 2) throw Error("XGBoost model: no trees or not multiclass");
    for (int c : f.class_)
      if (c < 0 || c >= f.classes_) throw Error("XGBoost model: tree class out of range");
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("XGBoost model: unexpected JSON layout (") + e.what() + "); expected XGBoost 1.x gbtree JSON");
  }
  return f;
}

void Forest::margins(const float* const* planes, int count, float* out) const {
  // Blocks of pixels small enough that their features stay in L1 cache while every tree is
  // walked over them; within a block, 8 neighbouring pixels walk a tree together so their
  // (independent) loads and comparisons overlap, and read neighbouring floats of a plane. Leaves point to themselves, so every pixel
  // takes the tree's depth in steps and the inner loop has no data-dependent branch.
  constexpr int kBlock = 64, kLanes = 8;
  std::fill(out, out + static_cast<std::size_t>(count) * classes_, 0.0f);
  const Node* nodes = nodes_.data();
  const float* leaf = leafValue_.data();
  for (int b0 = 0; b0 < count; b0 += kBlock) {
    const int b1 = std::min(count, b0 + kBlock);
    for (std::size_t t = 0; t < root_.size(); ++t) {
      const std::int32_t root = root_[t], steps = depth_[t], c = class_[t];
      int r = b0;
      for (; r + kLanes <= b1; r += kLanes) {
        std::int32_t n[kLanes];
        for (int k = 0; k < kLanes; ++k) n[k] = root;
        for (int s = 0; s < steps; ++s)
          for (int k = 0; k < kLanes; ++k) {
            const Node& node = nodes[n[k]];
            n[k] = planes[node.feature][r + k] < node.split ? node.left : node.right;
          }
        for (int k = 0; k < kLanes; ++k) out[(r + k) * classes_ + c] += leaf[n[k]];
      }
      for (; r < b1; ++r) {
        std::int32_t n = root;
        for (int s = 0; s < steps; ++s) {
          const Node& node = nodes[n];
          n = planes[node.feature][r] < node.split ? node.left : node.right;
        }
        out[r * classes_ + c] += leaf[n];
      }
    }
  }
}

}  // namespace fibseg::learn::detail
