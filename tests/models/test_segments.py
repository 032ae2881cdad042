"""RFM scores and segments, cohort retention and behaviour clusters on small inline tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from crmkit.models.segments import (
    RFM_SEGMENTS,
    behaviour_clusters,
    cohort_retention,
    quantile_score,
    rfm_scores,
    rfm_segments,
    validate_segment_grid,
)


def test_quantile_score_quintiles_ties_and_small_n():
    assert quantile_score(pd.Series(range(10))).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert quantile_score(pd.Series([50, 10, 40, 20, 30])).tolist() == [5, 1, 4, 2, 3]
    # Ties share the lowest score of their group: six equal values, then 7, 8, 9, 9.
    assert quantile_score(pd.Series([1] * 6 + [7, 8, 9, 9])).tolist() == [1] * 6 + [4, 4, 5, 5]
    assert quantile_score(pd.Series([3.0])).tolist() == [1]
    assert quantile_score(pd.Series([], dtype=float)).tolist() == []


def rfm_orders() -> pd.DataFrame:
    return pd.DataFrame({
        "order_id": [1, 2, 3, 4, 5, 6, 7, 7, 8, 9, 10],
        "customer_id": ["A", "A", "A", "B", "B", "C", "D", "D", "E", "E", "A"],
        "order_date": pd.to_datetime([
            "2024-03-30", "2024-03-01", "2024-02-01", "2024-03-20", "2024-01-10",
            "2024-01-05", "2024-02-15", "2024-02-15", "2024-03-25", "2024-03-26",
            "2024-04-05",  # after observation_end: ignored
        ]),
        "amount": [100.0, 50.0, 50.0, 30.0, 30.0, 500.0, 20.0, 5.0, 10.0, 10.0, 1000.0],
    })


def test_rfm_scores_by_hand():
    scores = rfm_scores(rfm_orders(), observation_end="2024-03-31")
    # recency: A Mar 30 -> 1 day, B Mar 20 -> 11, C Jan 5 -> 86, D Feb 15 -> 45, E -> 5.
    # frequency: order 7 has two lines, so D has one order. Scores: 1 + floor(5 * k / 5)
    # where k = customers strictly worse.
    expected = pd.DataFrame(
        {
            "recency_days": [1, 11, 86, 45, 5],
            "frequency": [3, 2, 1, 1, 2],
            "monetary": [200.0, 60.0, 500.0, 25.0, 20.0],
            "R": [5, 3, 1, 2, 4],
            "F": [5, 3, 1, 1, 3],
            "M": [4, 3, 5, 2, 1],
        },
        index=pd.Index(["A", "B", "C", "D", "E"], name="customer_id"),
    )
    pdt.assert_frame_equal(scores, expected)

    rows = rfm_scores(rfm_orders(), observation_end="2024-03-31", order_col=None)
    assert rows.loc["D", "frequency"] == 2  # counting rows, the two lines count twice


def test_rfm_segments_named_from_the_grid():
    segmented = rfm_segments(rfm_scores(rfm_orders(), observation_end="2024-03-31"))
    assert segmented["segment"].astype(str).to_dict() == {
        "A": "Champions",  # R5 F5
        "B": "Need attention",  # R3 F3
        "C": "Lost",  # R1 F1
        "D": "Hibernating",  # R2 F1
        "E": "Potential loyalists",  # R4 F3
    }
    assert list(segmented["segment"].cat.categories) == list(RFM_SEGMENTS)


def test_every_cell_of_the_default_grid_has_exactly_one_segment():
    validate_segment_grid(RFM_SEGMENTS)
    cells = pd.DataFrame([(r, f) for r in range(1, 6) for f in range(1, 6)], columns=["R", "F"])
    segmented = rfm_segments(cells)
    assert segmented["segment"].notna().all()
    assert len(segmented) == 25
    named = dict(zip(zip(segmented["R"], segmented["F"]), segmented["segment"].astype(str)))
    assert named[(5, 5)] == "Champions"
    assert named[(5, 1)] == "New customers"
    assert named[(4, 1)] == "Promising"
    assert named[(1, 5)] == "Cannot lose them"
    assert named[(2, 3)] == "At risk"
    assert named[(3, 2)] == "About to sleep"
    assert named[(1, 2)] == "Lost"
    assert named[(2, 2)] == "Hibernating"
    assert set(named.values()) == set(RFM_SEGMENTS)


def test_a_caller_can_pass_their_own_grid():
    grid = {"Recent": {"R": (4, 5), "F": (1, 5)}, "Lapsing": {"R": (1, 3), "F": (1, 5)}}
    segmented = rfm_segments(rfm_scores(rfm_orders(), observation_end="2024-03-31"), grid=grid)
    assert segmented["segment"].astype(str).tolist() == [
        "Recent", "Lapsing", "Lapsing", "Lapsing", "Recent"]
    assert list(segmented["segment"].cat.categories) == ["Recent", "Lapsing"]


@pytest.mark.parametrize("grid, message", [
    ({"Everyone": {"R": (1, 5), "F": (1, 4)}}, "without a segment"),
    ({"One": {"R": (1, 5), "F": (1, 5)}, "Two": {"R": (5, 5), "F": (5, 5)}}, "in several"),
    ({"Odd": {"R": (0, 5), "F": (1, 5)}}, "outside 1-5"),
    ({"Bad": {"R": 3}}, "must map to"),
])
def test_a_grid_with_gaps_or_overlaps_is_refused(grid, message):
    scores = pd.DataFrame({"R": [1], "F": [1]})
    with pytest.raises(ValueError, match=message):
        rfm_segments(scores, grid=grid)


def cohort_orders() -> pd.DataFrame:
    rows = [
        ("c1", "2024-01-05"), ("c1", "2024-02-10"), ("c1", "2024-03-30"),
        ("c2", "2024-01-20"), ("c2", "2024-03-01"), ("c2", "2024-03-02"),
        ("c3", "2024-02-02"),
        ("c4", "2024-02-15"), ("c4", "2024-02-20"), ("c4", "2024-03-05"),
        ("c5", "2024-03-10"),
        (None, "2024-01-03"),  # guest sale
    ]
    return pd.DataFrame({"customer_id": [r[0] for r in rows],
                         "order_date": pd.to_datetime([r[1] for r in rows])})


def test_cohort_retention_by_hand():
    result = cohort_retention(cohort_orders(), period="M")
    cohorts = pd.PeriodIndex(["2024-01", "2024-02", "2024-03"], freq="M", name="cohort")
    columns = pd.Index([0, 1, 2], name="periods_since_first")
    # Jan cohort {c1, c2}: Feb c1, Mar c1 and c2. Feb cohort {c3, c4}: Mar c4. Mar: {c5}.
    expected = pd.DataFrame(
        [[1.0, 0.5, 1.0], [1.0, 0.5, np.nan], [1.0, np.nan, np.nan]],
        index=cohorts, columns=columns,
    )
    pdt.assert_frame_equal(result.retention, expected)
    pdt.assert_series_equal(result.cohort_size,
                            pd.Series([2, 2, 1], index=cohorts, name="cohort_size"))
    pdt.assert_frame_equal(
        result.active,
        pd.DataFrame([[2, 1, 2], [2, 1, None], [1, None, None]], index=cohorts,
                     columns=columns, dtype="Int64"),
    )


def test_cohort_retention_observed_to_a_later_end_shows_zeros_not_gaps():
    result = cohort_retention(cohort_orders(), period="M", observation_end="2024-04-15")
    assert result.retention.columns.tolist() == [0, 1, 2, 3]
    assert result.retention.loc[pd.Period("2024-01", "M")].tolist() == [1.0, 0.5, 1.0, 0.0]
    mar = result.retention.loc[pd.Period("2024-03", "M")].tolist()
    assert mar[:2] == [1.0, 0.0] and np.isnan(mar[2:]).all()

    quarterly = cohort_retention(cohort_orders(), period="Q")
    assert quarterly.retention.shape == (1, 1) and quarterly.cohort_size.iloc[0] == 5


def three_groups(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    centers = [(0, 0), (10, 0), (0, 10)]
    sizes = [30, 20, 10]
    points = np.vstack([rng.normal(c, 0.5, size=(n, 2)) for c, n in zip(centers, sizes)])
    return pd.DataFrame(points, columns=["x", "y"],
                        index=pd.Index([f"cust{i:02d}" for i in range(60)], name="customer_id"))


def test_behaviour_clusters_choose_k_by_silhouette_and_are_deterministic():
    features = three_groups()
    first = behaviour_clusters(features, k_range=range(2, 7))
    second = behaviour_clusters(features, k_range=range(2, 7))
    assert first.k == 3
    assert first.k == first.silhouette["silhouette"].idxmax()
    assert first.silhouette.index.tolist() == [2, 3, 4, 5, 6]
    assert first.silhouette["chosen"].tolist() == [False, True, False, False, False]
    pdt.assert_series_equal(first.labels, second.labels)
    pdt.assert_frame_equal(first.silhouette, second.silhouette)
    # Numbered by size: the 30-point group is cluster 0, then 20, then 10.
    assert first.labels.iloc[:30].eq(0).all()
    assert first.labels.iloc[30:50].eq(1).all()
    assert first.labels.iloc[50:].eq(2).all()
    assert first.profile["n_customers"].tolist() == [30, 20, 10]
    assert first.profile["share"].tolist() == [0.5, 20 / 60, 10 / 60]
    assert first.profile.loc[1, "x"] == pytest.approx(features["x"].iloc[30:50].mean())


def test_behaviour_clusters_log_skewed_money():
    rng = np.random.default_rng(1)
    features = pd.DataFrame({"frequency": rng.integers(1, 5, 200).astype(float),
                             "monetary": rng.lognormal(3, 1.5, 200)})
    result = behaviour_clusters(features, k_range=[2, 3])
    assert result.log_features == ("monetary",)
    assert result.labels.index.equals(features.index)


def test_behaviour_clusters_refuse_missing_values_and_text():
    with pytest.raises(ValueError, match="missing values"):
        behaviour_clusters(pd.DataFrame({"a": [1.0, np.nan, 3.0, 4.0]}))
    with pytest.raises(ValueError, match="non-numeric"):
        behaviour_clusters(pd.DataFrame({"a": ["x", "y", "z"]}))
    with pytest.raises(ValueError, match="No k"):
        behaviour_clusters(pd.DataFrame({"a": [1.0, 2.0]}))
