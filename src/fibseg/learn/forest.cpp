#include "fibseg/learn/forest.hpp"

#include <immintrin.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <string>

#include "fibseg/core/error.hpp"

namespace fibseg::learn::detail {

namespace {

int asInt(const nlohmann::json& v) { return v.is_string() ? std::stoi(v.get<std::string>()) : v.get<int>(); }

// A model file's trees are checked before they are laid out (XGBoost's own loader trusts them: a
// child pointing back at an ancestor or arrays of different lengths made it free memory twice,
// found by fuzzing; a model file no longer reaches it): every per-node array has num_nodes
// entries, every child index is a node whose parent is this node, each node is reached once from
// the root, nothing categorical.
void requireWellFormedTree(const nlohmann::json& tree, std::size_t t) {
  const std::string where = "XGBoost model: tree " + std::to_string(t);
  const int nodes = asInt(tree.at("tree_param").at("num_nodes"));
  if (nodes < 1 || nodes > (1 << 24)) throw Error(where + ": " + std::to_string(nodes) + " nodes");
  if (asInt(tree.at("id")) != static_cast<int>(t)) throw Error(where + ": id is not its place in the list");
  for (const char* name : {"left_children", "right_children", "parents", "split_indices", "split_conditions",
                           "split_type", "default_left", "base_weights", "loss_changes", "sum_hessian"})
    if (!tree.at(name).is_array() || tree.at(name).size() != static_cast<std::size_t>(nodes))
      throw Error(where + ": " + name + " does not have one entry per node (" + std::to_string(nodes) + ")");
  for (const char* name : {"categories", "categories_nodes", "categories_segments", "categories_sizes"})
    if (tree.contains(name) && !tree.at(name).empty()) throw Error(where + ": categorical splits are not supported");
  const auto left = tree.at("left_children").get<std::vector<int>>();
  const auto right = tree.at("right_children").get<std::vector<int>>();
  const auto parents = tree.at("parents").get<std::vector<long long>>();
  std::vector<char> reached(nodes, 0);
  std::vector<int> stack{0};
  reached[0] = 1;
  while (!stack.empty()) {
    const int n = stack.back();
    stack.pop_back();
    if ((left[n] < 0) != (right[n] < 0)) throw Error(where + ": node " + std::to_string(n) + " has one child");
    if (left[n] < 0) continue;
    for (const int child : {left[n], right[n]}) {
      if (child <= 0 || child >= nodes || reached[child] || parents[child] != n)
        throw Error(where + ": node " + std::to_string(n) + " has a bad child " + std::to_string(child));
      reached[child] = 1;
      stack.push_back(child);
    }
  }
}

constexpr int kMaxClasses = 16;

bool hasAvx512() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  static const bool yes = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd");
  return yes;
#else
  return false;
#endif
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define FIBSEG_FOREST_AVX512 1
// The vectorised walk (see forest.hpp) for 16 pixels at a time; compiled for AVX-512 only here
// and called only when the processor has it. `margins` (interleaved per pixel, as Forest::margins)
// or `labels` (class of the largest margin, the first on ties) is filled.
__attribute__((target("avx512f,avx512cd"))) void walkSixteenAtATime(
    const float* const* planes, int count, const SplitTest* tests, const std::int32_t* testBegin,
    const float* leaves, const float* twins, const std::int32_t* treeClass, int trees, int classes,
    const std::int32_t* used, int usedCount, float* margins, std::uint8_t* labels) {
  alignas(64) float lanes[kMaxClasses][16];
  // Each feature plane is a stream of its own, more than the processor's prefetchers follow:
  // ask for the cache lines 8 blocks ahead (a block of 16 floats is about one line), and for the
  // first 8 blocks before starting.
  for (int r = 0; r < std::min(count, 128); r += 16)
    for (int f = 0; f < usedCount; ++f) _mm_prefetch(reinterpret_cast<const char*>(planes[used[f]] + r), _MM_HINT_T0);
  for (int r = 0; r < count; r += 16) {
    if (r + 128 < count)
      for (int f = 0; f < usedCount; ++f) _mm_prefetch(reinterpret_cast<const char*>(planes[used[f]] + r + 128), _MM_HINT_T0);
    const int n = std::min(16, count - r);
    const __mmask16 valid = n == 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1);
    __m512 sum[kMaxClasses];
    for (int c = 0; c < classes; ++c) sum[c] = _mm512_setzero_ps();
    for (int t = 0; t < trees; ++t) {
      __m512i possible = _mm512_set1_epi32(-1);
      for (int i = testBegin[t]; i < testBegin[t + 1]; ++i) {
        const SplitTest& s = tests[i];
        const __m512 x = _mm512_maskz_loadu_ps(valid, planes[s.feature] + r);
        // The walk goes right when !(x < split): x >= split, or x is NaN (unordered).
        const __mmask16 right = _mm512_cmp_ps_mask(x, _mm512_set1_ps(s.split), _CMP_NLT_UQ);
        possible = _mm512_mask_and_epi32(possible, right, possible, _mm512_set1_epi32(static_cast<int>(s.keep)));
      }
      // The leftmost leaf still possible: the lowest set bit, 31 - its count of leading zeros.
      const __m512i lowest = _mm512_and_si512(possible, _mm512_sub_epi32(_mm512_setzero_si512(), possible));
      const __m512i leaf = _mm512_sub_epi32(_mm512_set1_epi32(31), _mm512_lzcnt_epi32(lowest));
      const float* values = leaves + 32 * static_cast<std::size_t>(t);
      sum[treeClass[t]] = _mm512_add_ps(
          sum[treeClass[t]], _mm512_permutex2var_ps(_mm512_loadu_ps(values), leaf, _mm512_loadu_ps(values + 16)));
      if (twins) {
        const float* twin = twins + 32 * static_cast<std::size_t>(t);
        sum[1] = _mm512_add_ps(sum[1],
                               _mm512_permutex2var_ps(_mm512_loadu_ps(twin), leaf, _mm512_loadu_ps(twin + 16)));
      }
    }
    if (labels) {
      __m512 best = sum[0];
      __m512i which = _mm512_setzero_si512();
      for (int c = 1; c < classes; ++c) {
        const __mmask16 larger = _mm512_cmp_ps_mask(best, sum[c], _CMP_LT_OQ);  // as std::max_element
        best = _mm512_mask_mov_ps(best, larger, sum[c]);
        which = _mm512_mask_mov_epi32(which, larger, _mm512_set1_epi32(c));
      }
      _mm512_mask_cvtepi32_storeu_epi8(labels + r, valid, which);
    } else {
      for (int c = 0; c < classes; ++c) _mm512_store_ps(lanes[c], sum[c]);
      for (int i = 0; i < n; ++i)
        for (int c = 0; c < classes; ++c) margins[static_cast<std::size_t>(r + i) * classes + c] = lanes[c][i];
    }
  }
}
#endif

}  // namespace

void Forest::buildLeafSets() {
  tests_.clear();
  testBegin_.assign(1, 0);
  leaves32_.clear();
  twins32_.clear();
  vectorisable_ = classes_ <= kMaxClasses;
  for (std::size_t t = 0; t < root_.size() && vectorisable_; ++t) {
    // Leaves numbered left to right; each split keeps the leaves outside its left subtree.
    std::vector<float> leaf, twin;
    std::function<void(int)> visit = [&](int n) {
      const Node& node = nodes_[n];
      if (node.left == n) {
        leaf.push_back(leafValue_[n]);
        if (!twinLeaf_.empty()) twin.push_back(twinLeaf_[n]);
        return;
      }
      const int first = static_cast<int>(leaf.size());
      visit(node.left);
      const int past = static_cast<int>(leaf.size());
      visit(node.left + 1);
      if (past > 32) return;
      std::uint32_t leftSubtree = 0;
      for (int i = first; i < past; ++i) leftSubtree |= 1u << i;
      tests_.push_back({node.feature, node.split, ~leftSubtree});
    };
    visit(root_[t]);
    if (leaf.size() > 32) {
      vectorisable_ = false;
      break;
    }
    leaf.resize(32, 0.0f);
    leaves32_.insert(leaves32_.end(), leaf.begin(), leaf.end());
    if (!twinLeaf_.empty()) {
      twin.resize(32, 0.0f);
      twins32_.insert(twins32_.end(), twin.begin(), twin.end());
    }
    testBegin_.push_back(static_cast<std::int32_t>(tests_.size()));
  }
  if (!vectorisable_) tests_.clear(), testBegin_.clear(), leaves32_.clear(), twins32_.clear();
  usedFeatures_.clear();
  for (const SplitTest& t : tests_) usedFeatures_.push_back(t.feature);
  std::sort(usedFeatures_.begin(), usedFeatures_.end());
  usedFeatures_.erase(std::unique(usedFeatures_.begin(), usedFeatures_.end()), usedFeatures_.end());
  setVectorised(true);
}

void Forest::setVectorised(bool on) {
#ifdef FIBSEG_FOREST_AVX512
  vectorised_ = on && vectorisable_ && hasAvx512();
#else
  (void)on;
  vectorised_ = false;
#endif
}

void Forest::vectorWalk(const float* const* planes, int count, float* margins, std::uint8_t* labels) const {
#ifdef FIBSEG_FOREST_AVX512
  walkSixteenAtATime(planes, count, tests_.data(), testBegin_.data(), leaves32_.data(),
                     twins32_.empty() ? nullptr : twins32_.data(), class_.data(), static_cast<int>(root_.size()),
                     classes_, usedFeatures_.data(), static_cast<int>(usedFeatures_.size()), margins, labels);
#else
  (void)planes, (void)count, (void)margins, (void)labels;
  throw Error("forest: no vectorised walk in this build (internal)");
#endif
}

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
    if (!trees.is_array() || !info.is_array() || info.size() != trees.size())
      throw Error("XGBoost model: tree_info does not list one class per tree");
    for (std::size_t t = 0; t < trees.size(); ++t) requireWellFormedTree(trees[t], t);
    for (std::size_t t = 0; t < trees.size(); ++t) {
      const auto& tree = trees[t];
      const auto left = tree.at("left_children").get<std::vector<int>>();
      const auto right = tree.at("right_children").get<std::vector<int>>();
      const auto split = tree.at("split_conditions").get<std::vector<float>>();
      const auto feature = tree.at("split_indices").get<std::vector<int>>();
      const auto type = tree.at("split_type").get<std::vector<int>>();
      for (std::size_t n = 0; n < left.size(); ++n)
        if (left[n] >= 0 && (type.at(n) != 0 || feature[n] < 0 || feature[n] >= f.features_))
          throw Error("XGBoost model: a split this predictor cannot evaluate (categorical or bad feature)");
      // Lay the tree out breadth-first with the two children of a node side by side, so the
      // walk picks a child by adding the comparison's result: no branch to mispredict.
      const int base = static_cast<int>(f.nodes_.size());
      f.root_.push_back(base);
      f.class_.push_back(info.at(t).get<int>());
      std::vector<std::pair<int, int>> order{{0, base}};  // (XGBoost node, new index)
      f.nodes_.emplace_back();
      f.leafValue_.push_back(0);
      for (std::size_t i = 0; i < order.size(); ++i) {
        const auto [n, at] = order[i];
        if (n < 0 || n >= static_cast<int>(left.size()) || order.size() > 2 * left.size())
          throw Error("XGBoost model: malformed tree " + std::to_string(t));
        if (left[n] < 0) {
          f.nodes_[at] = Node{0, std::numeric_limits<float>::infinity(), at};
          f.leafValue_[at] = split[n];
        } else {
          const int children = static_cast<int>(f.nodes_.size());
          f.nodes_.emplace_back();
          f.nodes_.emplace_back();
          f.leafValue_.resize(f.nodes_.size(), 0.0f);
          f.nodes_[at] = Node{feature[n], split[n], children};
          order.push_back({left[n], children});
          order.push_back({right[n], children + 1});
        }
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
    f.walksPerRound_ = f.classes_;
    f.mergeTwinTrees();
    const std::size_t trees_ = f.root_.size();
    f.laterMax_.assign((trees_ + 1) * f.classes_, 0.0f);
    f.laterMin_.assign((trees_ + 1) * f.classes_, 0.0f);
    for (std::size_t t = trees_; t-- > 0;) {
      const int end = t + 1 < trees_ ? f.root_[t + 1] : static_cast<int>(f.nodes_.size());
      float most = -std::numeric_limits<float>::infinity(), least = std::numeric_limits<float>::infinity();
      for (int n = f.root_[t]; n < end; ++n)
        if (f.nodes_[n].left == n) most = std::max(most, f.leafValue_[n]), least = std::min(least, f.leafValue_[n]);
      float twinMost = 0, twinLeast = 0;  // class 1's leaves of a twinned round
      if (!f.twinLeaf_.empty()) {
        twinMost = -std::numeric_limits<float>::infinity(), twinLeast = std::numeric_limits<float>::infinity();
        for (int n = f.root_[t]; n < end; ++n)
          if (f.nodes_[n].left == n) twinMost = std::max(twinMost, f.twinLeaf_[n]), twinLeast = std::min(twinLeast, f.twinLeaf_[n]);
      }
      for (int c = 0; c < f.classes_; ++c) {
        const bool twin = !f.twinLeaf_.empty() && c == 1;
        f.laterMax_[t * f.classes_ + c] =
            f.laterMax_[(t + 1) * f.classes_ + c] + (twin ? twinMost : c == f.class_[t] ? most : 0.0f);
        f.laterMin_[t * f.classes_ + c] =
            f.laterMin_[(t + 1) * f.classes_ + c] + (twin ? twinLeast : c == f.class_[t] ? least : 0.0f);
      }
    }
    f.buildLeafSets();
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("XGBoost model: unexpected JSON layout (") + e.what() + "); expected XGBoost 1.x gbtree JSON");
  } catch (const std::logic_error& e) {  // std::stoi of a count that is not a number
    throw Error(std::string("XGBoost model: a count is not a number (") + e.what() + ")");
  }
  return f;
}

void Forest::mergeTwinTrees() {
  if (classes_ != 2 || root_.size() % 2 != 0) return;
  auto end = [&](std::size_t t) { return t + 1 < root_.size() ? root_[t + 1] : static_cast<int>(nodes_.size()); };
  for (std::size_t t = 0; t < root_.size(); t += 2) {
    if (class_[t] != 0 || class_[t + 1] != 1 || depth_[t] != depth_[t + 1]) return;
    const int a = root_[t], b = root_[t + 1], size = end(t) - a;
    if (end(t + 1) - b != size) return;
    for (int i = 0; i < size; ++i) {
      const Node& x = nodes_[a + i];
      const Node& y = nodes_[b + i];
      if (x.feature != y.feature || !(x.split == y.split) || x.left - a != y.left - b) return;
    }
  }
  // Every round twinned: keep class 0's trees, with class 1's leaf values beside them.
  std::vector<Node> nodes;
  std::vector<float> leaf, twin;
  std::vector<std::int32_t> root, depth, cls;
  for (std::size_t t = 0; t < root_.size(); t += 2) {
    const int a = root_[t], b = root_[t + 1], size = end(t) - a, at = static_cast<int>(nodes.size());
    for (int i = 0; i < size; ++i) {
      Node n = nodes_[a + i];
      n.left = n.left - a + at;
      nodes.push_back(n);
      leaf.push_back(leafValue_[a + i]);
      twin.push_back(leafValue_[b + i]);
    }
    root.push_back(at);
    depth.push_back(depth_[t]);
    cls.push_back(0);
  }
  nodes_ = std::move(nodes), leafValue_ = std::move(leaf), twinLeaf_ = std::move(twin);
  root_ = std::move(root), depth_ = std::move(depth), class_ = std::move(cls);
  walksPerRound_ = 1;
}

const Forest::Step* Forest::prepare(const float* const* planes) const {
  thread_local std::vector<Step> steps;
  steps.resize(nodes_.size());
  for (std::size_t i = 0; i < nodes_.size(); ++i) steps[i] = {planes[nodes_[i].feature], nodes_[i].split, nodes_[i].left};
  return steps.data();
}

void Forest::margins(const float* const* planes, int count, float* out) const {
  // Each node gets the address of its feature's plane for this call, so a step is one node
  // load, one feature load, a comparison added to the left child's index. Blocks of pixels are small enough that their
  // features stay in L1 cache while every tree is walked over them; within a block, 8
  // neighbouring pixels walk a tree together so their (independent) loads overlap. Leaves point
  // to themselves (split +inf), so each pixel takes the tree's depth in steps and no branch
  // depends on data: a mispredicted branch per comparison cost more than the comparison.
  if (vectorised_) return vectorWalk(planes, count, out, nullptr);
  const Step* node = prepare(planes);
  const float* leaf = leafValue_.data();
  const float* twin = twinLeaf_.empty() ? nullptr : twinLeaf_.data();
  constexpr int kBlock = 64, kLanes = 8;
  std::fill(out, out + static_cast<std::size_t>(count) * classes_, 0.0f);
  for (int b0 = 0; b0 < count; b0 += kBlock) {
    const int b1 = std::min(count, b0 + kBlock);
    for (std::size_t t = 0; t < root_.size(); ++t) {
      const std::int32_t root = root_[t], depth = depth_[t], c = class_[t];
      int r = b0;
      for (; r + kLanes <= b1; r += kLanes) {
        std::int32_t n[kLanes];
        for (int k = 0; k < kLanes; ++k) n[k] = root;
        for (int d = 0; d < depth; ++d)
          for (int k = 0; k < kLanes; ++k) {
            const Step& s = node[n[k]];
            n[k] = s.left + !(s.plane[r + k] < s.split);
          }
        for (int k = 0; k < kLanes; ++k) out[(r + k) * classes_ + c] += leaf[n[k]];
        if (twin)
          for (int k = 0; k < kLanes; ++k) out[(r + k) * classes_ + 1] += twin[n[k]];
      }
      for (; r < b1; ++r) {
        std::int32_t n = root;
        for (int d = 0; d < depth; ++d) {
          const Step& s = node[n];
          n = s.left + !(s.plane[r] < s.split);
        }
        out[r * classes_ + c] += leaf[n];
        if (twin) out[r * classes_ + 1] += twin[n];
      }
    }
  }
}

void Forest::labels(const float* const* planes, int count, std::uint8_t* out) const {
  if (vectorised_) return vectorWalk(planes, count, nullptr, out);
  const Step* node = prepare(planes);
  const float* leaf = leafValue_.data();
  const float* twin = twinLeaf_.empty() ? nullptr : twinLeaf_.data();
  constexpr int kBlock = 64, kLanes = 8;
  if (classes_ > kMaxClasses) throw Error("XGBoost model: too many classes");
  // Checked at round boundaries, every other round: often enough to drop pixels early, rarely
  // enough that the bookkeeping stays small next to the walks.
  const int checkEvery = 2 * walksPerRound_;
  const int trees = static_cast<int>(root_.size());
  float score[kBlock * kMaxClasses];
  int active[kBlock];
  auto best = [&](const float* m) { return static_cast<int>(std::max_element(m, m + classes_) - m); };
  for (int b0 = 0; b0 < count; b0 += kBlock) {
    const int b1 = std::min(count, b0 + kBlock);
    int alive = b1 - b0;
    for (int i = 0; i < alive; ++i) active[i] = b0 + i;
    std::fill(score, score + kBlock * classes_, 0.0f);
    for (int t = 0; t < trees && alive > 0; ++t) {
      if (t > 0 && t % checkEvery == 0) {
        const float* later = laterMax_.data() + t * classes_;
        const float* laterLow = laterMin_.data() + t * classes_;
        int kept = 0;
        for (int i = 0; i < alive; ++i) {
          const int p = active[i];
          const float* m = score + (p - b0) * classes_;
          const int b = best(m);
          bool settled = true;  // the 1e-4 keeps float rounding of the bounds on the safe side
          for (int c = 0; c < classes_ && settled; ++c)
            settled = c == b || m[b] + laterLow[b] > m[c] + later[c] + 1e-4f;
          if (settled)
            out[p] = static_cast<std::uint8_t>(b);
          else
            active[kept++] = p;
        }
        alive = kept;
        if (alive == 0) break;
      }
      const std::int32_t root = root_[t], depth = depth_[t], c = class_[t];
      int i = 0;
      for (; i + kLanes <= alive; i += kLanes) {
        std::int32_t n[kLanes];
        for (int k = 0; k < kLanes; ++k) n[k] = root;
        for (int d = 0; d < depth; ++d)
          for (int k = 0; k < kLanes; ++k) {
            const Step& s = node[n[k]];
            n[k] = s.left + !(s.plane[active[i + k]] < s.split);
          }
        for (int k = 0; k < kLanes; ++k) score[(active[i + k] - b0) * classes_ + c] += leaf[n[k]];
        if (twin)
          for (int k = 0; k < kLanes; ++k) score[(active[i + k] - b0) * classes_ + 1] += twin[n[k]];
      }
      for (; i < alive; ++i) {
        std::int32_t n = root;
        for (int d = 0; d < depth; ++d) {
          const Step& s = node[n];
          n = s.left + !(s.plane[active[i]] < s.split);
        }
        score[(active[i] - b0) * classes_ + c] += leaf[n];
        if (twin) score[(active[i] - b0) * classes_ + 1] += twin[n];
      }
    }
    for (int i = 0; i < alive; ++i) out[active[i]] = static_cast<std::uint8_t>(best(score + (active[i] - b0) * classes_));
  }
}

}  // namespace fibseg::learn::detail
