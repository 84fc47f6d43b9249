#pragma once
// Internal to the learn stage: XGBoost's trees, flattened for fast prediction. XGBoost's own
// predictor copies every row into a per-thread buffer and checks for missing values at every
// node; this walks the trees directly over a block of feature rows, a tree at a time (it stays
// in cache), several pixels interleaved so their comparisons overlap. Same arithmetic as XGBoost
// (float comparisons `x < split`, leaf sums per class), so the same labels and probabilities.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <vector>

namespace fibseg::learn::detail {

class Forest {
 public:
  /// From XGBoost's JSON model (the object with "learner"); throws fibseg::Error if it is not a
  /// multiclass tree model this code understands (numerical splits, one tree per class and round).
  static Forest fromXGBoostJson(const nlohmann::json& model);

  int classes() const { return classes_; }
  int features() const { return features_; }
  /// Tree walks per boosting round: the number of classes, or 1 for a two-class model whose
  /// rounds' trees share their splits (see twinLeaf_).
  int walksPerRound() const { return walksPerRound_; }

  /// Class scores (margins; softmax gives probabilities) of `count` consecutive pixels whose
  /// feature f is planes[f][0 .. count-1]: out[i * classes() + c].
  void margins(const float* const* planes, int count, float* out) const;
  /// The class of largest margin of each pixel (the first one on ties), as margins() would give,
  /// but a pixel leaves the walk as soon as the trees still to come cannot change its class
  /// (bounded by their largest and smallest leaves): confident pixels skip most late trees.
  void labels(const float* const* planes, int count, std::uint8_t* out) const;

 private:
  struct Node {
    std::int32_t feature;  // split feature; leaves: 0 (any)
    float split;           // go left if x < split; leaves: +inf (so the walk stays put)
    std::int32_t left;     // the right child is left + 1; leaves: the leaf itself
  };
  std::vector<Node> nodes_;
  std::vector<float> leafValue_;      // per node (0 for inner nodes)
  std::vector<std::int32_t> root_;    // per tree: index of its root in nodes_
  std::vector<std::int32_t> depth_;   // per tree: steps from root to the deepest leaf
  std::vector<std::int32_t> class_;   // per tree
  // Two-class models: XGBoost grows the two classes' trees of a round on gradients that are each
  // other's negatives, so they come out with the same splits (not exactly negated leaves). Then
  // each round is walked once and the leaf reached gives both classes' values: twinLeaf_ holds
  // class 1's (class_ is 0). Same sums in the same order, half the walks. Empty otherwise.
  std::vector<float> twinLeaf_;
  int walksPerRound_ = 0;
  // Sums of the largest / smallest leaf of the trees from index t on, per class: [t * classes + c].
  std::vector<float> laterMax_, laterMin_;

  struct Step {
    const float* plane;
    float split;
    std::int32_t left;
  };
  const Step* prepare(const float* const* planes) const;
  void mergeTwinTrees();
  int classes_ = 0, features_ = 0;
};

}  // namespace fibseg::learn::detail
