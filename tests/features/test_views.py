import math

import pytest

from radsweep.features.views import ViewPlan, crop_box


def test_the_centre_view_comes_first_and_has_no_box() -> None:
    boxes = ViewPlan(augmented=3).boxes("s001", 300, 200)
    assert len(boxes) == 4 and boxes[0] is None
    assert all(box is not None for box in boxes[1:])


def test_boxes_depend_only_on_sample_view_and_seed() -> None:
    plan = ViewPlan(augmented=4, seed=5)
    assert plan.boxes("s001", 300, 200) == plan.boxes("s001", 300, 200)
    assert plan.boxes("s001", 300, 200)[1:] != plan.boxes("s002", 300, 200)[1:]
    assert (
        plan.boxes("s001", 300, 200)[1:]
        != ViewPlan(augmented=4, seed=6).boxes("s001", 300, 200)[1:]
    )
    assert len(set(plan.boxes("s001", 300, 200)[1:])) == 4  # views differ from each other
    # More views extend the list without changing the earlier ones.
    assert ViewPlan(augmented=6, seed=5).boxes("s001", 300, 200)[:5] == plan.boxes("s001", 300, 200)


@pytest.mark.parametrize("size", [(256, 256), (512, 384), (300, 1000)])
def test_boxes_follow_random_resized_crop(size: tuple[int, int]) -> None:
    plan = ViewPlan(augmented=1)
    width, height = size
    for index in range(200):
        left, top, crop_width, crop_height = crop_box(plan, f"s{index}", 1, width, height)
        assert left >= 0 and left + crop_width <= width
        assert top >= 0 and top + crop_height <= height
        share = crop_width * crop_height / (width * height)
        assert 0.39 <= share <= 0.91
        assert 3 / 4 - 0.03 <= crop_width / crop_height <= 4 / 3 + 0.03


def test_impossible_shapes_fall_back_to_a_central_crop() -> None:
    # A 1000x10 strip cannot hold 40-90 % of its area at aspect 3/4-4/3.
    assert crop_box(ViewPlan(), "s1", 1, 1000, 10) == (493, 0, 13, 10)


def test_invalid_plans_are_rejected() -> None:
    with pytest.raises(ValueError, match="scale"):
        ViewPlan(scale=(0.9, 0.4))
    assert math.isclose(ViewPlan().ratio[1], 4 / 3)
