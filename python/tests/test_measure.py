"""fibseg.measure: the same numbers as `fibseg measure` on the same volume, known answers on
analytic volumes, and clear errors for labels it cannot read."""
import json
import subprocess

import numpy as np
import pytest

import fibseg
from conftest import CLI


def laminate():
    """20 x 24 x 30 (z, y, x): pore columns x < 12, SE 12 <= x < 18, CAM x >= 18; straight
    along y and z, so each phase's tortuosity along y and z is 1 and its fraction is exact."""
    v = np.zeros((20, 24, 30), np.uint8)
    v[:, :, 12:18] = 1
    v[:, :, 18:] = 2
    return v


def test_fractions_and_straight_channels_are_exact():
    # the straight columns span the volume, so no default would call it representative: solve anyway
    m = fibseg.measure(laminate(), (0.5, 0.5, 1.0), ["pore", "SE", "CAM"],
                       measure={"sizes": False, "tortuosity_min_chords": 0})
    assert m["voxel_size_um"] == [0.5, 0.5, 1.0]
    for name, fraction in (("pore", 12 / 30), ("SE", 6 / 30), ("CAM", 12 / 30)):
        phase = m["phases"][name]
        assert phase["volume_fraction"] == pytest.approx(fraction, abs=1e-12)
        for axis in ("y", "z"):
            assert phase["tortuosity_factor"][axis] == pytest.approx(1.0, abs=1e-4)
        # columns that never meet the two x faces of a middle phase do not percolate along x
    assert m["phases"]["SE"]["tortuosity_factor"]["x"] is None


def test_gives_what_the_cli_writes(tmp_path):
    tifffile = pytest.importorskip("tifffile", reason="python3-tifffile missing: writes the volume for the CLI")
    v = laminate()
    v[5:9, 6:14, 3:9] = 2  # a CAM block inside the pores: curved-free but not a laminate
    tifffile.imwrite(tmp_path / "labels.tif", v)
    subprocess.run([CLI, "measure", str(tmp_path / "labels.tif"), "--out", str(tmp_path / "out"),
                    "--phases", "pore=0,se=1,cam=2", "--voxel-size", "0.5,0.5,1", "--no-sizes"],
                   check=True, capture_output=True)
    cli = json.loads((tmp_path / "out" / "metrics.json").read_text())
    py = fibseg.measure(v, (0.5, 0.5, 1.0), {"pore": 0, "se": 1, "cam": 2}, measure={"sizes": False})
    assert py["phases"].keys() == cli["phases"].keys()
    for name in cli["phases"]:
        for key in ("volume_fraction", "specific_surface_area_per_um", "percolating_fraction", "tortuosity_factor"):
            assert py["phases"][name][key] == cli["phases"][name][key], (name, key)
    assert py["interfaces"] == cli["interfaces"]


def test_default_phases_are_the_registry_s():
    m = fibseg.measure(laminate(), measure={"tortuosity": False, "sizes": False})
    assert list(m["phases"]) == ["pore", "se", "cam"]
    assert m["voxel_size_um"] == [1, 1, 1]


def test_a_value_no_phase_names_is_an_error_listing_the_values():
    v = laminate()
    v[0, 0, 0] = 7
    with pytest.raises(ValueError, match=r"values 7 have no phase"):
        fibseg.measure(v, (1, 1, 1), ["pore", "SE", "CAM"], measure={"tortuosity": False, "sizes": False})


def test_bad_arrays_and_arguments_name_what_is_expected():
    with pytest.raises(ValueError, match="labels: expected a Z x H x W"):
        fibseg.measure(laminate()[0], (1, 1, 1))
    with pytest.raises(TypeError, match="labels: expected a uint8"):
        fibseg.measure(laminate().astype(np.uint16), (1, 1, 1))
    with pytest.raises(ValueError, match="labels: expected a C-contiguous"):
        fibseg.measure(laminate()[:, :, ::2], (1, 1, 1))
    with pytest.raises(ValueError, match="voxel_size"):
        fibseg.measure(laminate(), (1, 0, 1))
    with pytest.raises(ValueError, match="measure.slabs"):
        fibseg.measure(laminate(), (1, 1, 1), measure={"slabs": 0})


def test_modeller_metrics_come_with_the_dict():
    """Issue 28's metrics are in fibseg.measure's dict as in metrics.json: along y the pore and SE
    columns are parallel straight paths (D_eff = 12/30 * 1 + 6/30 * 0.5, tau 1); the three phases
    never meet on a line (CAM touches only SE); the SE's electrode tortuosity factor is finite;
    the CAM slab touches the volume's faces, so its only particle is removed."""
    m = fibseg.measure(laminate(), (0.5, 0.5, 1.0), ["pore", "SE", "CAM"],
                       measure={"sizes": False, "diffusivities": "pore=1, SE=0.5",
                                "tortuosity_min_chords": 0, "sizes_min_chords": 0})  # a 5-voxel volume: all the same
    d = m["multiphase_diffusion"]
    assert d["effective_diffusivity"]["y"] == pytest.approx(12 / 30 + 0.5 * 6 / 30, rel=1e-5)
    assert d["tortuosity_factor"]["y"] == pytest.approx(1.0, abs=1e-5)
    assert m["triple_phase_boundaries"]["pore|SE|CAM"]["length_per_volume_per_um2"] == 0
    assert m["phases"]["SE"]["electrode_tortuosity_factor"]["y"] > 0
    particles = m["phases"]["CAM"]["particles"]
    assert particles["count_initial"] >= 1 and particles["count_kept"] == 0
    assert particles["removed_count_fraction"] == 1
    # By default (measure.sizes_min_chords = 2) a volume a few voxels deep gets no watershed at
    # all: null, with the reason.
    thin = fibseg.measure(laminate(), (0.5, 0.5, 1.0), ["pore", "SE", "CAM"],
                          measure={"sizes": False, "tortuosity": False})
    assert "particles" not in thin["phases"]["CAM"]
    assert "measure.sizes_min_chords" in thin["phases"]["CAM"]["particles_null_reason"]
