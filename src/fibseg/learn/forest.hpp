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

/// One split of a tree for the vectorised path (Forest::vectorised).
struct SplitTest {
  std::int32_t feature;
  float split;
  std::uint32_t keep;  // the tree's leaves outside this split's left subtree (bit i: leaf i from the left)
};

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

  /// Whether margins() and labels() take the vectorised path (below): every tree has at most 32
  /// leaves and the processor has AVX-512 (F and CD). `setVectorised(false)` makes them walk the
  /// trees as before (tests compare the two; the results are the same bit for bit).
  bool vectorised() const { return vectorised_; }
  void setVectorised(bool on);

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

  // The vectorised path (QuickScorer, Lucchese et al., SIGIR 2015): 16 neighbouring pixels at a
  // time, every split of a tree is tested for all of them with one comparison; a split that sends
  // a pixel right removes the leaves of its left subtree from the pixel's 32-bit set of leaves
  // still possible (leaves numbered left to right), and the leftmost leaf left is the one the walk
  // ends in. No data-dependent loads (the gathers a vectorised walk would need are slow), the same
  // comparisons `x < split` and the same leaf values added per class in the same tree order as
  // the walk: the same margins, bit for bit. Settled pixels are not dropped early (at 16 pixels a
  // comparison that costs nothing extra); trees with more than 32 leaves take the walk.
  std::vector<SplitTest> tests_;          // per tree, its splits in any order
  std::vector<std::int32_t> testBegin_;  // per tree + 1: the first of its tests_
  std::vector<float> leaves32_;          // per tree, 32 leaf values left to right (0 past its last)
  std::vector<float> twins32_;           // the same for twinLeaf_ (two-class models), else empty
  std::vector<std::int32_t> usedFeatures_;  // the features some split tests, each once
  bool vectorisable_ = false, vectorised_ = false;
  void buildLeafSets();
  void vectorWalk(const float* const* planes, int count, float* margins, std::uint8_t* labels) const;
  int classes_ = 0, features_ = 0;
};

}  // namespace fibseg::learn::detail
