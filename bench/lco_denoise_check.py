# CAM IoU of per-slice Otsu after each denoise filter, lco-fibsem BSE vs its masks (raw frame).
# Usage (Debian's python3 with OpenCV and scikit-image): /usr/bin/python3 bench/lco_denoise_check.py [nlm]
# Figures: bench/README.md, Real data. Data: ../shared/data/real beside the project, or $FIBSEG_REAL_DATA.
import glob, os, sys, numpy as np, cv2
from skimage.filters import threshold_otsu
from skimage.restoration import denoise_nl_means
here = os.path.dirname(os.path.abspath(__file__))
root = os.path.join(os.environ.get("FIBSEG_REAL_DATA", os.path.join(here, "..", "..", "shared", "data", "real")), "lco-fibsem")
masks = sorted(glob.glob(root + "/masks/*.png"))
def otsu_iou(img, m):
    t = threshold_otsu(img) if img.dtype != np.uint8 else cv2.threshold(img,0,255,cv2.THRESH_BINARY+cv2.THRESH_OTSU)[0]
    cam = img > t
    return (cam & m).sum() / (cam | m).sum()
filters = {
 "none": lambda a: a,
 "gauss1": lambda a: cv2.GaussianBlur(a,(0,0),1, borderType=cv2.BORDER_REFLECT_101),
 "gauss2": lambda a: cv2.GaussianBlur(a,(0,0),2, borderType=cv2.BORDER_REFLECT_101),
 "gauss3": lambda a: cv2.GaussianBlur(a,(0,0),3, borderType=cv2.BORDER_REFLECT_101),
 "gauss4": lambda a: cv2.GaussianBlur(a,(0,0),4, borderType=cv2.BORDER_REFLECT_101),
 "median3": lambda a: cv2.medianBlur(a,3),
 "median5": lambda a: cv2.medianBlur(a,5),
 "median7": lambda a: cv2.medianBlur(a,7),
 "bilat_s3_c25": lambda a: cv2.bilateralFilter(a, -1, 25, 3),
 "bilat_s3_c50": lambda a: cv2.bilateralFilter(a, -1, 50, 3),
 "bilat_s5_c50": lambda a: cv2.bilateralFilter(a, -1, 50, 5),
}
if "nlm" in sys.argv:
    filters = {"nlm": lambda a: np.round(denoise_nl_means(a/255.0, h=0.04, patch_size=5, patch_distance=6, fast_mode=True)*255).astype(np.uint8)}
res = {k: [] for k in filters}
for mp in masks:
    name = os.path.basename(mp)
    img = cv2.imread(root + "/bse/" + name, cv2.IMREAD_GRAYSCALE)
    m = cv2.imread(mp, cv2.IMREAD_GRAYSCALE) == 1
    for k, f in filters.items(): res[k].append(otsu_iou(f(img), m))
for k, v in res.items(): print(f"{k:14s} mean {np.mean(v):.4f} min {np.min(v):.4f} max {np.max(v):.4f} n {len(v)}")
