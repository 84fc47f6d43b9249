"""Every function that takes an array refuses a wrong dtype, ndim or a non-contiguous view with
TypeError / ValueError naming the argument and what it expects (none converts silently, except
`shifts`, documented as converted to float64)."""
import numpy as np
import pytest

import fibseg

H, W = 48, 64
rng = np.random.default_rng(0)
SLICE = rng.integers(0, 255, (H, W), dtype=np.uint8)
STACK = np.stack([SLICE] * 3)
STROKES = (np.arange(H * W).reshape(H, W) % 3 + 1).astype(np.uint8)  # 1 pore, 2 SE, 3 CAM in turn
MODEL = None


def model():
    global MODEL
    if MODEL is None:
        MODEL = fibseg.train([SLICE], [STROKES], learn={"rounds": 2})
    return MODEL


# name -> (call with the array under test put in, the argument's name, the good array, accepted ndims)
CALLS = {
    "crop_rect": (lambda a: fibseg.crop_rect(a), "slice", SLICE, (2,)),
    "register": (lambda a: fibseg.register(a), "stack", STACK, (3,)),
    "apply_shifts": (lambda a: fibseg.apply_shifts(a, np.zeros((len(a), 2))), "stack", STACK, (3,)),
    "correct_brightness": (lambda a: fibseg.correct_brightness(a), "stack", STACK, (3,)),
    "clahe": (lambda a: fibseg.clahe(a), "image", SLICE, (2, 3)),
    "denoise": (lambda a: fibseg.denoise(a), "image", SLICE, (2, 3)),
    "segment_classical": (lambda a: fibseg.segment_classical(a), "image", SLICE, (2, 3)),
    "tune slice": (lambda a: fibseg.tune(a, STROKES), "slice", SLICE, (2,)),
    "tune annotation": (lambda a: fibseg.tune(SLICE, a), "annotation", STROKES, (2,)),
    "train images": (lambda a: fibseg.train([a], [STROKES], learn={"rounds": 2}), r"images\[0\]", SLICE, (2,)),
    "train annotations": (lambda a: fibseg.train([SLICE], [a], learn={"rounds": 2}), r"annotations\[0\]", STROKES, (2,)),
    "predict": (lambda a: fibseg.predict(model(), a), "images", SLICE, (2, 3)),
}


@pytest.mark.parametrize("name", CALLS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.bool_, ">u2"])
def test_wrong_dtype_raises_type_error_naming_the_argument(name, dtype):
    call, argument, good, _ = CALLS[name]
    with pytest.raises(TypeError, match=f"^{argument}: expected (a uint8 or uint16 array|uint8)"):
        call(good.astype(dtype))


@pytest.mark.parametrize("name", CALLS)
def test_wrong_ndim_raises_value_error_naming_the_argument(name):
    call, argument, good, ndims = CALLS[name]
    for ndim in {1, 2, 3, 4} - set(ndims):
        shape = {1: (W,), 2: (H, W), 3: (3, H, W), 4: (1, 3, H, W)}[ndim]
        wrong = np.zeros(shape, good.dtype)
        with pytest.raises(ValueError, match=f"^{argument}: expected .* got {ndim} dimensions"):
            call(wrong)


@pytest.mark.parametrize("name", CALLS)
def test_non_contiguous_view_raises_value_error_naming_the_argument(name):
    call, argument, good, _ = CALLS[name]
    wide = np.repeat(good, 2, axis=-1)
    for view in (wide[..., ::2], np.asfortranarray(good) if good.ndim == 2 else good[:, ::-1]):
        assert not view.flags.c_contiguous
        with pytest.raises(ValueError, match=f"^{argument}: expected a C-contiguous array"):
            call(view)
        call(np.ascontiguousarray(view))  # the fix the message names works


def test_inputs_are_read_in_place_and_left_unchanged():
    """The C++ side reads a read-only view of the caller's buffer: no copy needed, nothing written."""
    frozen = STACK.copy()
    frozen.flags.writeable = False
    before = frozen.tobytes()
    fibseg.register(frozen)
    fibseg.correct_brightness(frozen)
    fibseg.segment_classical(frozen)
    fibseg.predict(model(), frozen)
    assert frozen.tobytes() == before


def test_a_slice_result_is_handed_over_without_a_copy():
    """A single slice's result is the C++ buffer itself (the array does not own it but keeps it)."""
    labels = fibseg.segment_classical(SLICE)
    assert not labels.flags.owndata and labels.base is not None and labels.flags.c_contiguous
    assert labels.tobytes() == fibseg.segment_classical(STACK)[0].tobytes()
    denoised = fibseg.denoise(SLICE, intensity={"denoise": "none"})
    # nothing to do: the result is a copy, never the caller's own buffer
    assert not np.shares_memory(denoised, SLICE) and denoised.tobytes() == SLICE.tobytes()


def test_bad_shifts_and_crop():
    with pytest.raises(ValueError, match="^shifts: expected one row per slice"):
        fibseg.apply_shifts(STACK, np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"^shifts: expected a Z x 2 array"):
        fibseg.apply_shifts(STACK, np.zeros((3, 3)))
    with pytest.raises(ValueError, match="^shifts: row 1 .* expected finite numbers"):
        fibseg.apply_shifts(STACK, [[0, 0], [np.nan, 0], [0, 0]])
    with pytest.raises(ValueError, match="^crop: expected 'common' or 'pad'"):
        fibseg.apply_shifts(STACK, np.zeros((3, 2)), crop="same")
    # documented conversion: a list of ints is taken as float64 shifts
    assert fibseg.apply_shifts(STACK, [[0, 0], [1, 0], [0, 0]]).shape == (3, H, W - 1)


def test_bad_annotations_name_the_argument():
    with pytest.raises(ValueError, match="^annotation argument: grey value 7"):
        fibseg.tune(SLICE, np.full((H, W), 7, np.uint8))
    with pytest.raises(ValueError, match="^annotation: expected the slice's size"):
        fibseg.tune(SLICE, STROKES[:-1].copy())
    with pytest.raises(ValueError, match=r"^annotations\[0\]: grey value 9"):
        fibseg.train([SLICE], [np.full((H, W), 9, np.uint8)])
    with pytest.raises(ValueError, match=r"^annotations\[0\]: expected the size of images\[0\]"):
        fibseg.train([SLICE], [STROKES[:-1].copy()])
    with pytest.raises(ValueError, match="^images, annotations: expected two lists"):
        fibseg.train([SLICE], [])
