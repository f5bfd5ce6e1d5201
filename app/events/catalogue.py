"""The configurable product catalogue and the life-cycle limits that go with it.

The ISBT 128 product-code table is licensed by ICCBBA, so the service ships this small
catalogue instead: component category → storage range and shelf life, overridable per product
code, plus the mandatory release markers, donation intervals, the return window and the
transit alert. ``decide`` takes a ``Catalogue`` as a parameter; nothing is read at import.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.events.catalogue_parts import ColdChain, DonorRules, PatientRules, ProductRules

Category = Literal[
    "whole_blood", "red_cells", "platelets", "plasma", "cryoprecipitate", "granulocytes",
    "buffy_coat",
]
IntendedUse = Literal["allogeneic", "autologous", "directed", "research", "source_plasma"]
CollectionType = Literal[
    "whole_blood", "apheresis_plasma", "apheresis_platelets", "apheresis_red_cells"
]
CATEGORIES: tuple[Category, ...] = (
    "whole_blood", "red_cells", "platelets", "plasma", "cryoprecipitate", "granulocytes",
    "buffy_coat",
)


class Storage(BaseModel):
    """How one category (or product code) is kept: range in tenths of °C, shelf life."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_dc: int | None = Field(description="lowest allowed temperature, tenths of °C")
    max_dc: int | None = Field(description="highest allowed temperature, tenths of °C")
    shelf_life_hours: int = Field(gt=0, description="from collection")

    def in_range(self, low_dc: int, high_dc: int) -> bool:
        """Whether readings between ``low_dc`` and ``high_dc`` stayed inside the range."""
        if self.min_dc is not None and low_dc < self.min_dc:
            return False
        return not (self.max_dc is not None and high_dc > self.max_dc)

    @property
    def shelf_life(self) -> timedelta:
        return timedelta(hours=self.shelf_life_hours)


_DAY = 24


def _default_storage() -> dict[str, Storage]:
    return {
        "whole_blood": Storage(min_dc=20, max_dc=60, shelf_life_hours=35 * _DAY),
        "red_cells": Storage(min_dc=20, max_dc=60, shelf_life_hours=42 * _DAY),
        "platelets": Storage(min_dc=200, max_dc=240, shelf_life_hours=5 * _DAY),
        "plasma": Storage(min_dc=None, max_dc=-180, shelf_life_hours=365 * _DAY),
        "cryoprecipitate": Storage(min_dc=None, max_dc=-180, shelf_life_hours=365 * _DAY),
        # Granulocytes are transfused within a day of collection, kept at 20-24 °C.
        "granulocytes": Storage(min_dc=200, max_dc=240, shelf_life_hours=24),
        # Buffy coats wait at 20-24 °C, for a day at most, to be pooled into platelets.
        "buffy_coat": Storage(min_dc=200, max_dc=240, shelf_life_hours=24),
    }


class Catalogue(BaseModel):
    """Everything configurable about the life cycle. Frozen: share one per process."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    storage: dict[str, Storage] = Field(default_factory=_default_storage)
    donors: DonorRules = Field(default_factory=DonorRules)
    products: ProductRules = Field(default_factory=ProductRules)
    cold_chain: ColdChain = Field(default_factory=ColdChain)
    patients: PatientRules = Field(default_factory=PatientRules)
    modified_storage_dc: dict[str, dict[str, tuple[int | None, int | None]]] = Field(
        default_factory=lambda: dict[str, dict[str, tuple[int | None, int | None]]]({
            "thawed": {"plasma": (20, 60), "cryoprecipitate": (200, 240)}}),
        description="modification → category → the storage range once modified (tenths of "
        "°C): thawed plasma at 2-6 °C (Council of Europe Guide; AABB allows 1-6 °C), thawed "
        "cryoprecipitate at 20-24 °C; a thawed unit found frozen again is out of range",
    )
    product_overrides: dict[str, Storage] = Field(
        default_factory=dict,
        description="by full 8-character product code, or by its 5-character description code",
    )
    mandatory_markers: tuple[str, ...] = Field(
        default=("HIV", "HBV", "HCV", "SYPHILIS", "ABO", "RHD"),
        description="markers every unit needs, tested and negative (groups determined), "
        "before release (the EU minimum of Directive 2002/98 Annex IV; FDA adds more)",
    )
    mandatory_by_category: dict[str, tuple[str, ...]] = Field(
        default_factory=lambda: dict[str, tuple[str, ...]]({"platelets": ("BACTERIA",)}),
        description="markers a category needs on top: platelets a bacterial screen, unless "
        "the unit was pathogen-reduced (UK JPAC and FDA guidance on platelet bacterial risk)",
    )
    infectious: tuple[str, ...] = Field(
        default=("HIV", "HBV", "HCV", "SYPHILIS", "HTLV", "ANTI_HBC", "WNV", "MALARIA", "CHAGAS",
                 "HEV", "BACTERIA"),
        description="markers whose reactive or indeterminate result holds every unit of the "
        "donation, mandatory or not",
    )
    informational: tuple[str, ...] = Field(
        default=("CMV",),
        description="markers recorded for unit attributes (a CMV-negative unit) that never "
        "hold a unit; a marker in no list is refused, so a typo is never silently ignored",
    )
    group_markers: tuple[str, ...] = ("ABO", "RHD")
    repeats_to_resolve: int = Field(
        default=2, ge=1, description="non-reactive repeats that resolve an initial reactive "
        "screen (the duplicate-repeat algorithm of the Council of Europe Guide)")
    collection_categories: dict[str, tuple[str, ...]] = Field(
        default_factory=lambda: dict[str, tuple[str, ...]]({
            "whole_blood": ("whole_blood",),
            "apheresis_plasma": ("plasma",),
            "apheresis_platelets": ("platelets",),
            "apheresis_red_cells": ("red_cells",),
        }),
        description="the primary product categories each collection type may yield",
    )
    late_entry_hours: int = Field(
        default=72, gt=0, description="how far before the server clock a step may be dated "
        "without a late_entry_reason")
    future_skew_minutes: int = Field(
        default=5, ge=0, description="how far after the server clock a step may be dated")
    lookback_window_days: int = Field(
        default=365, gt=0, description="a lookback reaches donations from this long before the "
        "donor's last non-reactive screen for the marker (12 months: EU practice for HIV/HCV)")
    lookback_deadline_days: int = Field(
        default=3, gt=0, description="days a lookback has to reach every unit it found")
    # The common "30-minute rule": a unit out of controlled storage longer than this is not
    # taken back into stock.
    return_window_minutes: int = Field(default=30, gt=0)
    transit_alert_hours: int = Field(default=12, gt=0)

    def storage_for(self, category: str, product_code: str | None = None,
                    modifications: tuple[str, ...] = ()) -> Storage:
        """The storage rule of a product: its code's override, else its category's, with the
        range its latest range-changing modification gives (thawed plasma is kept cold)."""
        rule = self.storage[category]
        for modification in modifications:
            moved = self.modified_storage_dc.get(modification, {}).get(category)
            if moved is not None:
                rule = rule.model_copy(update={"min_dc": moved[0], "max_dc": moved[1]})
        if product_code is not None:
            override = self.product_overrides.get(product_code) or self.product_overrides.get(
                product_code[:5]
            )
            if override is not None:
                return override
        return rule

    def mandatory_for(self, category: str) -> tuple[str, ...]:
        """Every marker a unit of ``category`` needs before release, groups included."""
        return (*self.mandatory_markers, *self.mandatory_by_category.get(category, ()))

    def knows_marker(self, marker: str) -> bool:
        return marker in (*self.infectious, *self.informational, *self.group_markers)

    @property
    def late_entry(self) -> timedelta:
        return timedelta(hours=self.late_entry_hours)

    @property
    def future_skew(self) -> timedelta:
        return timedelta(minutes=self.future_skew_minutes)

    @property
    def return_window(self) -> timedelta:
        return timedelta(minutes=self.return_window_minutes)


def default_catalogue() -> Catalogue:
    """The defaults of DESIGN §3 (red cells 2-6 °C/42 d, platelets 20-24 °C/5 d, ...)."""
    return Catalogue()
