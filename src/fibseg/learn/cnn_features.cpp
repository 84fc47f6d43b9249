// Optional CNN features: a user-supplied ONNX network (for example the first convolution blocks
// of an ImageNet-trained VGG16) run with OpenCV's dnn module. Its feature maps, resized to the
// slice, become extra columns of the feature matrix. Contract: input 1x1xHxW float32 (the
// normalised slice, about 0..1), output 1xKxhxw; any grey-to-RGB or ImageNet normalisation
// belongs inside the exported graph (see bench/README.md "Learn").
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include "fibseg/core/error.hpp"
#include "fibseg/learn/feature_bank.hpp"

namespace fibseg::learn::detail {

CnnRunner::CnnRunner(const std::string& path) : path_(path) {
  try {
    net_ = cv::dnn::readNetFromONNX(path);
  } catch (const cv::Exception& e) {
    throw Error("CNN model " + path + ": OpenCV cannot read it (" + e.what() +
                "); expected an ONNX file taking a 1x1xHxW float image");
  }
  if (net_.empty()) throw Error("CNN model " + path + ": empty network; expected an ONNX file");
  net_.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  net_.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  // Probe the number of feature maps on a small blank image.
  channels_ = static_cast<int>(run(cv::Mat::zeros(64, 64, CV_32F)).size());
}

std::vector<cv::Mat> CnnRunner::run(const cv::Mat& normalised) {
  cv::Mat output;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    try {
      net_.setInput(cv::dnn::blobFromImage(normalised));
      output = net_.forward().clone();
    } catch (const cv::Exception& e) {
      throw Error("CNN model " + path_ + ": running it on a " + std::to_string(normalised.cols) + "x" +
                  std::to_string(normalised.rows) + " image failed (" + e.what() +
                  "); expected input 1x1xHxW float32 with free H and W, output 1xKxhxw");
    }
  }
  if (output.dims != 4 || output.size[0] != 1)
    throw Error("CNN model " + path_ + ": output has " + std::to_string(output.dims) +
                " dimensions; expected 1xKxhxw feature maps");
  const int k = output.size[1], h = output.size[2], w = output.size[3];
  std::vector<cv::Mat> maps(k);
  for (int c = 0; c < k; ++c) {
    const cv::Mat map(h, w, CV_32F, output.ptr<float>(0, c));
    if (h == normalised.rows && w == normalised.cols)
      maps[c] = map.clone();
    else
      cv::resize(map, maps[c], normalised.size(), 0, 0, cv::INTER_LINEAR);
  }
  return maps;
}

}  // namespace fibseg::learn::detail
