"""Settings become policies once (DESIGN: one composition root).

`Policies.from_settings` is the only place that turns settings into the frozen policy
objects the pure decisions take; the runtime builds one `Policies` and hands it to every
job, service and report, so a status page can never judge with other numbers than the
job that acted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mamcrawler.config import Settings
from mamcrawler.domain.acquisition import AcquisitionPolicies
from mamcrawler.domain.completion import CompletionPolicy
from mamcrawler.domain.integrity import IntegrityPolicy
from mamcrawler.domain.rate import RatePolicy
from mamcrawler.domain.ratio_guard import GuardPolicy
from mamcrawler.domain.release_choice import ChoicePolicy
from mamcrawler.domain.seeding import SeedingPolicy
from mamcrawler.domain.vip_keeper import VipPolicy


@dataclass(frozen=True)
class Policies:
    guard: GuardPolicy
    seeding: SeedingPolicy
    vip: VipPolicy
    rate: RatePolicy
    choice: ChoicePolicy
    integrity: IntegrityPolicy
    completion: CompletionPolicy = field(default_factory=CompletionPolicy)
    paid_after_days: float = 0  # acquisition waits this long for a free release

    @property
    def acquisition(self) -> AcquisitionPolicies:
        return AcquisitionPolicies(self.rate, self.choice, self.guard, self.seeding,
                                   self.paid_after_days)

    @classmethod
    def from_settings(cls, settings: Settings) -> Policies:
        return cls(
            guard=GuardPolicy(
                floor=settings.ratio_floor,
                recovery=settings.ratio_recovery,
                raised_upload_slots=settings.guard_upload_slots,
            ),
            seeding=SeedingPolicy(
                min_seed_hours=settings.seed_min_hours,
                window_days=settings.seed_window_days,
                unsat_margin=settings.unsat_margin,
            ),
            vip=VipPolicy(
                renew_threshold_days=settings.vip_renew_threshold_days,
                points_reserve=settings.vip_points_reserve,
                max_vip_days=settings.vip_max_days,
                buy_when_not_vip=settings.vip_buy_when_not_vip,
                cap_margin=settings.points_cap_margin,
                emergency_target_ratio=settings.ratio_recovery,
                price_confirmed_at=settings.vip_price_confirmed_at,
            ),
            rate=RatePolicy(base_slots=settings.grab_slots, paid_slots=settings.paid_grab_slots),
            choice=ChoicePolicy(wedges_enabled=settings.use_wedges),
            integrity=IntegrityPolicy(
                duration_tolerance_pct=settings.integrity_duration_tolerance_pct),
            paid_after_days=settings.paid_after_days,
            completion=CompletionPolicy(
                follow_library_by_default=settings.follow_library_by_default,
                completion_language=settings.completion_language.strip() or None,
                allow_omnibus=settings.allow_omnibus,
                allow_dramatized=settings.allow_dramatized,
                tracker_requests_per_weekly_run=settings.tracker_requests_per_weekly_run,
                discovery_policy=settings.discovery_policy,
                top10_discovery=settings.top10_discovery,
                liked_narrators=tuple(n.strip() for n in settings.liked_narrators.split(",")
                                      if n.strip())),
        )
