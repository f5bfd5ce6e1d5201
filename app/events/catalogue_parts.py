"""The parts of the catalogue that issue 13 adds: donor eligibility, product processing and
the cold chain. Every number is configurable; defaults and the choices between standards:

- **Haemoglobin** before donation: 125 g/L for women, 135 g/L for men (EU Directive 2004/33
  Annex III and the Council of Europe Guide agree; the FDA's 125/130 g/L is lower for men).
  A donor of sex X, or of unrecorded sex, gets the stricter limit.
- **Intervals** between donations depend on the previous and the next procedure (red-cell
  loss decides): whole blood → whole blood 56 days for men, 84 for women (Council of Europe
  Guide; the FDA's 56 days for all is less protective of women's iron); whole blood →
  apheresis 28; apheresis platelets/plasma → whole blood 2 (no red-cell loss); plasma →
  plasma 2 (EU plasma practice); double red cells (apheresis red cells) → anything with red
  cells 112 (FDA 21 CFR 640.65). Sex X or unrecorded: the longer of the two.
- **Annual caps** (any 12 months): whole blood 4 for men, 3 for women (Council of Europe
  Guide); apheresis procedures 24; apheresis plasma 15 L.
- **Processing allowance**: a whole-blood collection set adds 63 mL of anticoagulant (CPD,
  for 450 mL) and 110 mL of red-cell additive solution (SAGM), so components may hold up to
  173 mL more than the bag as drawn.
- **Open system**: a unit processed in an open system keeps 24 h (red cells, whole blood) or
  4 h (platelets) from processing (Council of Europe Guide; UK JPAC agrees); other
  categories get the shortest, 4 h, until the catalogue says otherwise.
- **Modifications**: irradiated red cells 14 days from irradiation (EU and UK; the FDA
  allows 28 — configurable), washed 24 h, thawed plasma 24 h (FDA and UK; some EU guidance
  allows 5 days as "thawed plasma" under 1-6 °C — configurable), volume-reduced platelets
  4 h.
- **Transport**: red cells and whole blood 1-10 °C, platelets 20-24 °C, frozen components
  -18 °C or colder (Council of Europe Guide and UK JPAC).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Sex = Literal["F", "M", "X"]
Modification = Literal[
    "irradiated", "washed", "thawed", "leukoreduced", "volume_reduced", "pathogen_reduced",
    "resuspended",
]


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _wb_to_wb() -> dict[str, int]:
    return {"M": 56, "F": 84}


def _both(days: int) -> dict[str, int]:
    return {"M": days, "F": days}


def _intervals() -> dict[str, dict[str, dict[str, int]]]:
    both = _both
    return {
        "whole_blood": {"whole_blood": _wb_to_wb(), "apheresis_red_cells": _wb_to_wb(),
                        "apheresis_platelets": both(28), "apheresis_plasma": both(28)},
        "apheresis_platelets": {"whole_blood": both(2), "apheresis_red_cells": both(2),
                                "apheresis_platelets": both(2), "apheresis_plasma": both(2)},
        "apheresis_plasma": {"whole_blood": both(2), "apheresis_red_cells": both(2),
                             "apheresis_platelets": both(2), "apheresis_plasma": both(2)},
        "apheresis_red_cells": {"whole_blood": both(112), "apheresis_red_cells": both(112),
                                "apheresis_platelets": both(28), "apheresis_plasma": both(28)},
    }


class DonorRules(_Part):
    """Who may give, how often (see the module docstring for the sources)."""

    hb_min_g_l: dict[str, int] = Field(default_factory=lambda: {"F": 125, "M": 135})
    screening_valid_hours: int = Field(default=24, gt=0)
    intervals_days: dict[str, dict[str, dict[str, int]]] = Field(default_factory=_intervals)
    """previous collection type → next collection type → sex → days."""
    whole_blood_per_year: dict[str, int] = Field(default_factory=lambda: {"M": 4, "F": 3})
    apheresis_per_year: int = 24
    plasma_ml_per_year: int = 15_000

    def hb_min(self, sex: str | None) -> int:
        return self.hb_min_g_l.get(sex or "", max(self.hb_min_g_l.values()))

    def interval_days(self, previous: str, following: str, sex: str | None) -> int:
        by_sex = self.intervals_days.get(previous, {}).get(following, {})
        if not by_sex:
            return 0
        return by_sex.get(sex or "", max(by_sex.values()))

    def whole_blood_cap(self, sex: str | None) -> int:
        return self.whole_blood_per_year.get(sex or "", min(self.whole_blood_per_year.values()))


def _derivations() -> dict[str, tuple[str, ...]]:
    return {
        "whole_blood": ("red_cells", "plasma", "platelets", "buffy_coat"),
        "plasma": ("plasma", "cryoprecipitate"),
        "red_cells": ("red_cells",),
        "platelets": ("platelets",),
        "buffy_coat": ("platelets",),
    }


def _modification_hours() -> dict[str, dict[str, int]]:
    return {
        "irradiated": {"red_cells": 14 * 24, "whole_blood": 14 * 24},
        "washed": {"red_cells": 24, "platelets": 24},
        "thawed": {"plasma": 24, "cryoprecipitate": 4},
        "volume_reduced": {"platelets": 4, "red_cells": 24},
    }


def _modifiable() -> dict[str, tuple[str, ...]]:
    return {
        "irradiated": ("red_cells", "platelets", "whole_blood", "granulocytes"),
        "washed": ("red_cells", "platelets"),
        "thawed": ("plasma", "cryoprecipitate"),
        "leukoreduced": ("red_cells", "platelets", "whole_blood", "plasma"),
        "volume_reduced": ("platelets", "red_cells"),
        "pathogen_reduced": ("platelets", "plasma"),
        "resuspended": ("red_cells",),
    }


class ProductRules(_Part):
    """What may be made from what, how much it may hold, and how long it keeps."""

    derivations: dict[str, tuple[str, ...]] = Field(default_factory=_derivations)
    """parent category → the categories a split may make of it; anything else is refused."""
    collection_set_ml: dict[str, int] = Field(
        default_factory=lambda: {"whole_blood": 63 + 110})
    """collection type → what its set adds at first processing (anticoagulant, additive)."""
    first_processing_capped_by_parent: bool = True
    """Whether the components made at the first processing of a collection are capped by
    the collection's own expiry, as RULES §5 says of every split (the default). With whole
    blood at 35 days this caps red cells in additive solution (42 days) and frozen plasma
    (a year) at 35 days too; the Council of Europe Guide gives components made from whole
    blood their own shelf life from collection, which ``False`` follows. Later splits
    (aliquots, re-splits) are always capped by their parent."""
    open_system_hours: dict[str, int] = Field(
        default_factory=lambda: {"red_cells": 24, "whole_blood": 24, "platelets": 4})
    open_system_default_hours: int = 4
    modification_hours: dict[str, dict[str, int]] = Field(default_factory=_modification_hours)
    """modification → category → hours from the modification (capped by the parent)."""
    modifiable: dict[str, tuple[str, ...]] = Field(default_factory=_modifiable)
    """modification → the categories it applies to."""
    attributes: dict[str, str] = Field(default_factory=lambda: {
        "irradiated": "irradiated", "washed": "washed", "pathogen_reduced": "pathogen_reduced",
        "leukoreduced": "leukoreduced"})
    """modification → the attribute it gives (what a patient's requirement asks for)."""
    product_categories: dict[str, str] = Field(default_factory=lambda: {
        "E0001": "whole_blood", "E0011": "whole_blood", "E0398": "red_cells",
        "E0400": "red_cells", "E2555": "plasma", "E4712": "plasma", "E3080": "platelets",
        "E3084": "platelets", "E3087": "platelets", "E3090": "platelets",
    })
    """Product description codes the catalogue knows, with their category (illustrative
    codes: the ICCBBA table is licensed). A code it knows must be declared as its category."""

    def open_system_cap(self, category: str) -> int:
        return self.open_system_hours.get(category, self.open_system_default_hours)


class ColdChain(_Part):
    """Transport ranges (tenths of °C) per category; frozen components have no lower bound."""

    transport_dc: dict[str, tuple[int | None, int | None]] = Field(default_factory=lambda: dict[
        str, tuple[int | None, int | None]]({
        "red_cells": (10, 100), "whole_blood": (10, 100), "platelets": (200, 240),
        "granulocytes": (200, 240), "buffy_coat": (200, 240), "plasma": (None, -180),
        "cryoprecipitate": (None, -180),
    }))

    modified_transport_dc: dict[str, dict[str, tuple[int | None, int | None]]] = Field(
        default_factory=lambda: dict[str, dict[str, tuple[int | None, int | None]]]({
            "thawed": {"plasma": (10, 100), "cryoprecipitate": (200, 240)}}))
    """modification → category → the transport range once modified: thawed plasma travels
    cold like red cells, thawed cryoprecipitate at room temperature; neither frozen."""

    def in_range(self, category: str, temp_dc: int, modifications: tuple[str, ...] = ()
                 ) -> bool:
        """Whether an arrival at ``temp_dc`` is inside the transport range of the product
        (its latest modification that changes the range, else its category's)."""
        low, high = self.transport_dc.get(category, (None, None))
        for modification in modifications:
            low, high = self.modified_transport_dc.get(modification, {}).get(
                category, (low, high))
        return (low is None or temp_dc >= low) and (high is None or temp_dc <= high)


Requirement = Literal["irradiated", "washed", "cmv_negative", "hbs_negative", "hla_matched"]
ReactionType = Literal[
    "abo_haemolysis", "other_alloimmune_haemolysis", "non_immune_haemolysis",
    "bacterial_infection", "anaphylaxis", "trali", "taco", "viral_infection",
    "parasitic_infection", "ptp", "ta_gvhd", "fnhtr", "allergic", "other",
]
"""The coded reaction types of RULES §8: the categories of the EU annual report (Directive
2005/61 Annex II, part C), with FNHTR and allergic, the common non-severe ones."""


class PatientRules(_Part):
    """Patients, issue and the bedside (RULES §7, §8). Defaults and choices:

    - **Two-sample rule**: non-group-O red cells need two agreeing determinations from
      different samples (UK BSH 2012 pre-transfusion guideline; the FDA leaves it to the
      facility). After a disagreement the earlier determinations no longer count: two new
      agreeing samples are needed, the safe reading of "until a new determination".
    - **Sample age**: 72 h for a crossmatch sample (BSH and AABB: a patient transfused or
      pregnant in the last 3 months may have made new antibodies).
    - **Start** within 30 minutes of issue, **completion** within 4 h of issue (UK JPAC; the
      Council of Europe Guide gives 4 h for red cells at room temperature).
    - **Emergency plasma**: AB only by default; group A plasma for a patient of unknown group
      is allowed only when ``emergency_group_a_plasma`` is set (US trauma practice, AABB
      2017, where AB plasma is scarce; not EU practice).
    - **Emergency crossmatch** follow-up within 24 h (BSH: a retrospective crossmatch of
      every uncrossmatched unit).
    - **Reactions that hold co-components**: bacterial, TRALI and viral (the donor's other
      components may carry the same bacteria, antibodies or virus).
    """

    requirement_attributes: dict[str, str] = Field(default_factory=lambda: {
        "irradiated": "irradiated", "washed": "washed", "cmv_negative": "cmv_negative",
        "hbs_negative": "hbs_negative", "hla_matched": "hla_matched"})
    """A patient's requirement → the unit attribute that meets it."""
    two_sample_categories: tuple[str, ...] = ("red_cells", "whole_blood", "granulocytes")
    """Categories carrying red cells: the two-sample rule applies to their non-O units."""
    sample_valid_hours: int = Field(default=72, gt=0)
    start_within_minutes: int = Field(default=30, gt=0)
    complete_within_hours: int = Field(default=4, gt=0)
    emergency_group_a_plasma: bool = False
    emergency_crossmatch_hours: int = Field(default=24, gt=0)
    holding_reactions: tuple[str, ...] = ("bacterial_infection", "trali", "viral_infection")
    """Reactions that hold every live co-component and defer the donor, in one decision."""
    serious_severities: tuple[str, ...] = ("severe", "life_threatening", "death")
    """Severities the annual report counts as serious (Directive 2005/61 Art. 1)."""
