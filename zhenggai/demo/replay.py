"""The Anshan replay: the First Steel Plant's second rectification upsurge, January 1958.

Built from the seed's own numbers, through the same actions a plant's people use:
8,000+ opinions aired in 1957 (some anonymous, some raised years before), summarised into
problems; 85% claimed resolved by 1958-01-15; a five-day review round (01-16 to 01-20) in
which representatives check every claim one by one and about 10% turn out false; posters
and home visits; re-rectification after it; long-standing problems solved; the report on
1958-01-28. Deterministic: the same seed gives the same figures.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from zhenggai.campaigns.models import Campaign, Role
from zhenggai.campaigns.roles import grant
from zhenggai.figures.ledger import book_pending
from zhenggai.opinions.intake import submit_opinion
from zhenggai.opinions.models import Channel, Opinion
from zhenggai.opinions.receipts import redeem
from zhenggai.org.models import Category, Member, Organisation, Unit
from zhenggai.problems import actions as problem_actions
from zhenggai.problems import lifecycle
from zhenggai.problems.models import FollowUp, Problem

from . import texts

ORG_NAME = "鞍钢第一炼钢厂"
ORG_NAME_EN = "Anshan Iron and Steel, First Steel Plant"
BUILDING = ORG_NAME + "（回放生成中）"
DEMO_PASSWORD = "zhenggai-demo"
SEED = 1958
N_OPINIONS = 8000  # aired in 1957; the carried-over problems bring older ones on top
N_PROBLEMS = 1200
CLAIMED_SHARE = 0.85
FAIL_NOT_THOROUGH = 0.12  # of claims never verified before the round
FAIL_DETERIORATED = 0.07  # of claims verified in the autumn
AUTUMN_VERIFIED = 0.32  # of the problems: claims verified before the review round
SUGGESTIONS_LOOKED_AT = 5  # the clerk reads the engine's first five problems

AIRING = (dt.date(1957, 5, 20), dt.date(1957, 8, 31))
CLAIMED_BY = dt.date(1958, 1, 15)
ROUND = (dt.date(1958, 1, 16), dt.date(1958, 1, 20))
REPORT = dt.date(1958, 1, 28)

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"  # noqa: E501
GIVEN = "国庆建华志强振兴德明永福玉兰桂英秀珍淑芬宝山长海立新文斌学军树林春生凤霞俊峰广才铁柱"

DEMO_USERS = {
    # username: (name, unit code, roles)
    "worker": ("王秀英", "furnace8", []),
    "clerk": ("李文书", "office", [Role.CLERK]),
    "owner": ("张国栋", "openhearth", [Role.OWNER]),
    "representative": ("刘振声", "furnace3", [Role.REPRESENTATIVE]),
    "leader": ("陈志刚", "office", [Role.LEADER]),
    "admin": ("管理员", "office", [Role.ADMIN]),
}


def _tz():
    return ZoneInfo(settings.TIME_ZONE)


def at(day: dt.date, hour: int = 9, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=_tz())


def exists() -> bool:
    return Organisation.objects.filter(name=ORG_NAME).exists()


def org() -> Organisation | None:
    return Organisation.objects.filter(name=ORG_NAME).first()


@dataclass
class Result:
    org: Organisation
    campaign: Campaign
    receipt: str | None = None  # the demo proposer's receipt, shown once
    counts: dict = field(default_factory=dict)


class _Builder:
    def __init__(self, progress=None) -> None:
        self.rng = random.Random(SEED)
        self.say = progress or (lambda *_a: None)
        self.names_used: set[str] = set()

    def name(self) -> str:
        while True:
            n = self.rng.choice(SURNAMES) + "".join(self.rng.sample(GIVEN, 2))
            if n not in self.names_used:
                self.names_used.add(n)
                return n

    def day_between(self, a: dt.date, b: dt.date) -> dt.date:
        return a + dt.timedelta(days=self.rng.randint(0, (b - a).days))

    # -- the plant ---------------------------------------------------------------------
    def plant(self) -> None:
        self.org = Organisation.objects.create(name=BUILDING, name_en=ORG_NAME_EN)
        self.units: dict[str, Unit] = {}
        for code, parent, name, name_en in texts.UNITS:
            u = Unit(org=self.org, code=code, name=name, name_en=name_en,
                     parent=self.units.get(parent))
            u.save()
            self.units[code] = u
        self.cats = {
            code: Category.objects.create(org=self.org, code=code, name=n, name_en=en)
            for code, n, en in texts.CATEGORIES
        }
        self.old = Campaign.objects.create(
            org=self.org, name="1954–1957 职工代表大会提案", name_en="Workers' congress 1954–1957",
            airing_from=dt.date(1954, 6, 1), rectification_from=dt.date(1955, 3, 1),
            review_from=dt.date(1956, 6, 1), ends_on=dt.date(1957, 5, 31),
        )
        self.camp = Campaign.objects.create(
            org=self.org, name="1957年整风整改", name_en="Rectification campaign 1957",
            airing_from=AIRING[0], rectification_from=dt.date(1957, 9, 1),
            review_from=ROUND[0], previous=self.old,
        )
        self.people()

    def people(self) -> None:
        from django.contrib.auth import get_user_model

        User = get_user_model()
        self.demo: dict[str, Member] = {}
        for username, (name, unit, roles) in DEMO_USERS.items():
            user = User(username=username, is_staff=username == "admin",
                        is_superuser=username == "admin")
            user.set_password(DEMO_PASSWORD)
            user.save()
            m = Member.objects.create(org=self.org, user=user, name=name, unit=self.units[unit])
            self.names_used.add(name)
            for c in (self.old, self.camp):
                grant(m, c, *roles)
            self.demo[username] = m
        # A head for every unit: the owner of its problems. The demo owner heads the
        # open-hearth workshop.
        self.heads: dict[str, Member] = {"openhearth": self.demo["owner"]}
        for code, u in self.units.items():
            if code not in self.heads:
                self.heads[code] = Member.objects.create(org=self.org, name=self.name(), unit=u)
            for c in (self.old, self.camp):
                grant(self.heads[code], c, Role.OWNER)
        self.leaders = [self.demo["leader"]]
        secretary = Member.objects.create(org=self.org, name="马振华", unit=self.units["office"])
        self.leaders.append(secretary)
        self.clerks = [self.demo["clerk"]]
        for _i in range(2):
            self.clerks.append(Member.objects.create(org=self.org, name=self.name(),
                                                     unit=self.units["office"]))
        for m in self.leaders:
            for c in (self.old, self.camp):
                grant(m, c, Role.LEADER)
        for m in self.clerks:
            for c in (self.old, self.camp):
                grant(m, c, Role.CLERK)
        crews = [u for c, u in self.units.items() if c.startswith("furnace")]
        others = [self.units[c] for c in ("rawmat", "ingot", "power", "repair", "transport")]
        self.reps = [self.demo["representative"]]
        for i in range(14):
            u = (crews + others)[i % (len(crews) + len(others))]
            self.reps.append(Member.objects.create(org=self.org, name=self.name(), unit=u))
        for m in self.reps:
            grant(m, self.camp, Role.REPRESENTATIVE)
        workers = [Member(org=self.org, name=self.name(),
                          unit=self.rng.choice(crews * 3 + others)) for _i in range(1500)]
        Member.objects.bulk_create(workers, batch_size=500)
        self.workers = [self.demo["worker"], *Member.objects.filter(
            org=self.org, user__isnull=True, campaign_roles__isnull=True).order_by("pk")]

    # -- opinions ----------------------------------------------------------------------
    def plan_problems(self) -> list[dict]:
        rng = self.rng
        plans = []
        for i in range(N_PROBLEMS):
            theme = texts.THEMES[i % len(texts.THEMES)]
            cat, unit, scope, summary, zh, en = theme
            f, s = rng.randint(1, 9), rng.randrange(4)
            uses_f = any("{f}" in w for w in [summary, *zh, *en])
            unit_code = f"furnace{f}" if (uses_f and unit == "openhearth") else unit
            size = rng.choice([1, 1, 2, 3]) if scope == "individual" else \
                1 + min(60, int(rng.expovariate(1 / 7)))
            where = f"（{f}号炉，{texts.SHIFTS[s]}）" if uses_f else f"（{texts.SHIFTS[s]}）"
            plans.append(dict(theme=theme, f=f, s=s, unit=unit_code, scope=scope,
                              summary=summary.format(f=f, s=texts.SHIFTS[s]) + where,
                              size=size, category=cat))
        # Exactly N_OPINIONS opinions: trim or grow the common problems.
        total = sum(p["size"] for p in plans)
        commons = [p for p in plans if p["scope"] == "common"]
        while total != N_OPINIONS:
            p = rng.choice(commons)
            if total > N_OPINIONS and p["size"] > 1:
                p["size"] -= 1
                total -= 1
            elif total < N_OPINIONS:
                p["size"] += 1
                total += 1
        # About 40 problems first raised years ago, though summarised only now.
        for p in rng.sample(plans, 40):
            p["first_raised"] = dt.date(rng.randint(1954, 1956), rng.randint(1, 12), 1)
        return plans

    def text(self, plan: dict) -> tuple[str, bool]:
        _c, _u, _s, _sum, zh, en = plan["theme"]
        fmt = dict(f=plan["f"], s=texts.SHIFTS[plan["s"]], s_en=texts.SHIFTS_EN[plan["s"]])
        if self.rng.random() < 0.1:
            return self.rng.choice(en).format(**fmt) + self.rng.choice(texts.EN_SUFFIXES), True
        body = self.rng.choice(zh).format(**fmt)
        return self.rng.choice(texts.PREFIXES) + body + self.rng.choice(texts.SUFFIXES), False

    def opinions(self, plans: list[dict]) -> None:
        rng = self.rng
        self.receipts: dict[int, str] = {}
        receipt_slots = set(rng.sample(range(N_OPINIONS), 30))
        n = 0
        for p in plans:
            p["opinions"] = []
            for _k in range(p["size"]):
                text, _en = self.text(p)
                day = self.day_between(*AIRING)
                anonymous = rng.random() < 0.12 or n in receipt_slots
                receipt = n in receipt_slots
                sub = submit_opinion(
                    self.camp, text=text,
                    channel=Channel.PHONE if receipt else
                    (Channel.PAPER if anonymous else rng.choice([Channel.PAPER, Channel.MEETING])),
                    author=None if anonymous else rng.choice(self.workers), anonymous=anonymous,
                    unit=self.units[p["unit"]], category=self.cats[p["category"]],
                    received_on=day, at=at(day, rng.randint(8, 18)), receipt=receipt,
                )
                if sub.receipt:
                    self.receipts[sub.opinion.pk] = sub.receipt
                p["opinions"].append(sub.opinion)
                n += 1
            if n % 1000 < p["size"]:
                self.say(f"  {n} opinions")

    def old_problems(self) -> list[Problem]:
        """Problems raised in 1954–56 and never solved: carried into the 1957 campaign."""
        rng = self.rng
        out = []
        for cat, unit, scope, summary, zh, en in texts.OLD_THEMES:
            ops = []
            for _k in range(rng.randint(12, 30)):
                day = dt.date(1954, 6, 1) + dt.timedelta(days=rng.randint(0, 600))
                anonymous = rng.random() < 0.1
                text = rng.choice(en) if rng.random() < 0.1 else rng.choice(zh)
                ops.append(submit_opinion(
                    self.old, text=text, channel=Channel.PAPER, anonymous=anonymous,
                    author=None if anonymous else rng.choice(self.workers),
                    unit=self.units[unit], category=self.cats[cat], received_on=day,
                    at=at(day, 10)).opinion)
            made = dt.date(1956, 3, 1)
            p = problem_actions.create_problem(
                self.old, ops, actor=self.clerks[0], summary=summary,
                category=self.cats[cat], scope=scope, owner=self.heads[unit],
                unit=self.units[unit], measures="列入计划，待拨款", deadline=dt.date(1956, 12, 31),
                at=at(made, 10))
            p = problem_actions.carry_over(
                p, self.camp, actor=self.leaders[0], at=at(dt.date(1957, 6, 1), 9)
            )
            out.append(p)
        return out

    # -- summarising, claiming, the autumn checks ----------------------------------------
    def summarise(self, plans: list[dict]) -> None:
        """The clerks summarise as at the desk. Each batch of opinions about one matter (a
        plan) is put to the grouping engine first (grouping/service.py, what the desk's merge
        target shows); when one of the problems it ranks highest is the same matter (the
        clerk's judgement: the same summary), the opinions are added to it; otherwise they
        become a new problem, with an owner, measures and a deadline. Plans merged into an
        earlier one leave `plans`; `self.grouping` counts what the engine found and missed."""
        from zhenggai.grouping import service

        rng = self.rng
        kept: list[dict] = []
        made: dict[str, dict] = {}  # summary -> the plan whose problem it is
        self.grouping = {"new": 0, "merged": 0, "missed": 0}
        n = len(plans)
        for i, p in enumerate(plans):
            day = dt.date(1957, 9, 1) + dt.timedelta(days=i * 14 // n)
            clerk = self.clerks[i % len(self.clerks)]
            first = made.get(p["summary"])
            same = None
            if first is not None:
                ranked = service.problems_like(self.camp, [o.text for o in p["opinions"][:2]],
                                               k=SUGGESTIONS_LOOKED_AT)
                if any(s.problem.pk == first["problem"].pk for s in ranked):
                    same = first
                else:
                    self.grouping["missed"] += 1
            if same is not None:
                # after the day's new problems (10:xx), in the order the clerks took them
                when = at(day, 17) + dt.timedelta(seconds=i)
                problem_actions.add_opinions(same["problem"], p["opinions"], actor=clerk,
                                             at=when)
                same["size"] += p["size"]
                same["opinions"] += p["opinions"]
                self.grouping["merged"] += 1
                continue
            deadline = day + dt.timedelta(days=rng.randint(30, 110))
            p["problem"] = problem_actions.create_problem(
                self.camp, p["opinions"], actor=clerk,
                summary=p["summary"], category=self.cats[p["category"]], scope=p["scope"],
                owner=self.heads[p["unit"]], unit=self.units[p["unit"]],
                measures="查明原因，制定措施，限期整改", deadline=deadline,
                first_raised=p.get("first_raised"), at=at(day, 10, i % 60),
            )
            made.setdefault(p["summary"], p)
            kept.append(p)
            self.grouping["new"] += 1
        plans[:] = kept
        service.service.forget(self.camp.pk)  # this process's index: built for the replay only
        self.say(f"  {len(kept)} problems; {self.grouping['merged']} batches added to one "
                 f"the engine suggested, {self.grouping['missed']} it did not find")

    def choose_claimed(self, plans: list[dict], extra: list[Problem]) -> set[int]:
        """85% of the problems, carrying about 85% of the opinions, claimed by 01-15."""
        rng = self.rng
        n_all = len(plans) + len(extra)
        # Rounded up: rounded to nearest, 575 of 677 problems is 84.9%, and the report's 85%
        # would not come out (the number of problems varies a little with the grouping).
        target = math.ceil(CLAIMED_SHARE * n_all)
        eligible = [i for i, p in enumerate(plans) if "first_raised" not in p
                    and not p.get("declined")]
        rng.shuffle(eligible)
        chosen = set(eligible[:target])
        rest = eligible[target:]
        total_ops = sum(p["size"] for p in plans) + sum(p.n_opinions for p in extra)

        def share() -> float:
            return sum(plans[i]["size"] for i in chosen) / total_ops

        # Swap a small chosen problem for a larger unchosen one (or back) until the share
        # of opinions is as close to 85% as the problems' share.
        for _round in range(2000):
            s = share()
            if abs(s - CLAIMED_SHARE) < 0.002:
                break
            a, b = rng.choice(sorted(chosen)), rng.choice(rest)
            if (s < CLAIMED_SHARE) == (plans[b]["size"] > plans[a]["size"]):
                chosen.remove(a)
                chosen.add(b)
                rest.remove(b)
                rest.append(a)
        return chosen

    def declines(self, plans: list[dict]) -> list[Problem]:
        rng = self.rng
        picks = rng.sample([p for p in plans if "first_raised" not in p], 15)
        out = []
        for p in picks:
            p["declined"] = True
            prob = p["problem"]
            problem_actions.propose_decline(
                prob,
                actor=self.clerks[0],
                at=at(dt.date(1957, 9, 20), 10),
                reason="超出本厂权限，需上级统一解决",
            )
            problem_actions.decline(prob, actor=self.leaders[0], at=at(dt.date(1957, 9, 25), 10),
                      reason="此事需冶金部统一安排，本厂已转报上级，并向提意见的同志说明。")
            out.append(prob)
        return out

    def autumn(self, plans: list[dict], claimed: set[int]) -> tuple[set[int], set[int]]:
        """Owners claim; in the autumn a part is verified, a part of that re-checked.

        A consolidation check comes `consolidation_days` after verification and is made by
        another representative (rules.py); the review round re-checks every autumn
        verification, so those are made early enough for it (by VERIFY_BY)."""
        rng = self.rng
        verified, closed = set(), set()
        order = sorted(claimed)
        days = self.camp.consolidation_days
        verify_by = ROUND[0] - dt.timedelta(days=days)
        autumn_verified = set(rng.sample(order, round(AUTUMN_VERIFIED * len(plans))))
        for i in order:
            p = plans[i]
            prob = p["problem"]
            # after its last grouping (the clerks added batches until mid-September)
            made = max(prob.created_on, timezone.localdate(prob.updated_at))
            last = verify_by - dt.timedelta(days=1) if i in autumn_verified else CLAIMED_BY
            cday = self.day_between(made + dt.timedelta(days=7),
                                    min(last, made + dt.timedelta(days=100)))
            problem_actions.claim(prob, actor=self.heads[p["unit"]], done="已按措施整改完毕",
                    evidence="车间自查合格", at=at(cday, 15))
            if i in autumn_verified:
                vday = self.day_between(cday + dt.timedelta(days=1),
                                        min(verify_by, cday + dt.timedelta(days=20)))
                problem_actions.verify(prob, actor=self.rep_for(prob), passed=True, at=at(vday, 14))
                verified.add(i)
                cday2 = vday + dt.timedelta(days=days)
                if cday2 <= CLAIMED_BY and rng.random() < 0.5:
                    problem_actions.consolidation_check(prob, actor=self.rep_for(prob), holds=True,
                                          at=at(cday2, 14))
                    closed.add(i)
        return verified, closed

    def rep_for(self, prob: Problem, avoid=()) -> Member:
        """A representative who may verify or re-check `prob`: not its owner or claimant,
        and not whoever verified it (a consolidation check is another's)."""
        cands = [r for r in self.reps
                 if r.pk not in (prob.owner_id, prob.last_claim_by_id, prob.verified_by_id)
                 and r.pk not in avoid]
        return cands[prob.pk % len(cands)]

    # -- the review round: every claim checked again, one by one ------------------------
    def review_round(self, plans: list[dict], claimed: set[int], verified: set[int]) -> set[int]:
        rng = self.rng
        rnd = problem_actions.start_review_round(
            self.camp,
            actor=self.leaders[0],
            name="第二次整改高潮复查",
            starts_on=ROUND[0],
            ends_on=ROUND[1],
        )
        claimed_only = sorted(claimed - verified)
        fail = set(rng.sample(claimed_only, round(FAIL_NOT_THOROUGH * len(claimed_only))))
        fail |= set(rng.sample(sorted(verified), round(FAIL_DETERIORATED * len(verified))))
        by_problem = {p["problem"].pk: i for i, p in enumerate(plans)}
        items = list(rnd.items.select_related("assignee").order_by("pk"))
        days = (ROUND[1] - ROUND[0]).days + 1
        for k, item in enumerate(items):
            i = by_problem[item.problem_id]
            prob = plans[i]["problem"]
            day = ROUND[0] + dt.timedelta(days=k * days // len(items))
            when = at(day, 8 + (k % 9), k % 60)
            rep = item.assignee or self.rep_for(prob)
            failed = i in fail
            if i in verified:
                problem_actions.consolidation_check(prob, actor=rep, holds=not failed, at=when,
                                      findings="整改后又恢复原状，情况变坏" if failed else "")
            else:
                problem_actions.verify(prob, actor=rep, passed=not failed, at=when,
                         findings="措施没有落实，改得不彻底" if failed else "")
            if failed and rng.random() < 0.6:
                pday = min(ROUND[1], day + dt.timedelta(days=1))
                owner = self.heads[plans[i]["unit"]]
                signed = rng.random() < 0.5
                problem_actions.post_poster(
                    prob, actor=rng.choice(self.workers), signed=signed, at=at(pday, 12),
                    text=f"{owner.name}同志：“{plans[i]['summary']}”改得不彻底，"
                         "群众很有意见，请迅速整改！")
        return fail

    # -- after the round: re-rectify, visit proposers, solve the old problems ------------
    def after(self, plans, fail, verified_in_round, old, claimed) -> None:
        rng = self.rng
        tail = (dt.date(1958, 1, 21), dt.date(1958, 1, 27))
        for i in sorted(fail):
            prob = plans[i]["problem"]
            d = self.day_between(tail[0], dt.date(1958, 1, 24))
            problem_actions.claim(
                prob,
                actor=self.heads[plans[i]["unit"]],
                done="按职工代表的意见重新整改",
                evidence="职工代表现场查看",
                at=at(d, 10),
            )
            if rng.random() < 0.9:
                problem_actions.verify(prob, actor=self.rep_for(prob), passed=True,
                         at=at(self.day_between(d + dt.timedelta(days=1), tail[1]), 15))
        # Problems workers had raised for years, solved this time.
        long_standing = old + [p["problem"] for p in plans if "first_raised" in p]
        for prob in long_standing:
            if rng.random() < 0.8:
                d = self.day_between(tail[0], dt.date(1958, 1, 24))
                problem_actions.claim(prob, actor=self.heads[prob.unit.code], done="这次彻底解决",
                        evidence="职工代表验收", at=at(d, 11))
                problem_actions.verify(prob, actor=self.rep_for(prob), passed=True,
                         at=at(self.day_between(d + dt.timedelta(days=1), tail[1]), 16))
        # More of the unclaimed problems are claimed in the upsurge; some await verification.
        rest = [p["problem"] for i, p in enumerate(plans) if i not in claimed
                and "first_raised" not in p and not p.get("declined")]
        for prob in rng.sample(rest, len(rest) // 2):
            d = self.day_between(tail[0], tail[1])
            problem_actions.claim(
                prob, actor=self.heads[prob.unit.code], done="已整改", at=at(d, 14)
            )
        # Cadres visit proposers at home and talk to them (个别谈话, 登门拜访).
        self.visits(plans, sorted(verified_in_round), tail)
        self.contests()

    def visits(self, plans, verified_in_round, tail) -> None:
        rng = self.rng
        back = []
        for i in rng.sample(verified_in_round, min(400, len(verified_in_round))):
            prob = plans[i]["problem"]
            named = [o for o in plans[i]["opinions"] if not o.anonymous]
            if not named:
                continue
            r = rng.random()
            outcome = ("satisfied" if r < 0.85 else "not_satisfied" if r < 0.93
                       else "no_answer")
            problem_actions.record_followup(
                rng.choice(named), actor=rng.choice(self.leaders),
                channel=rng.choice([FollowUp.Channel.CONVERSATION, FollowUp.Channel.HOME_VISIT]),
                outcome=outcome, at=at(self.day_between(tail[0], dt.date(1958, 1, 25)), 19),
                note="",
            )
            if outcome == "not_satisfied":
                back.append(prob)
        for prob in back:  # sent back to verification: most pass, some do not
            prob.refresh_from_db()
            problem_actions.verify(prob, actor=self.rep_for(prob), passed=rng.random() < 0.7,
                     findings="提意见的同志说明问题仍然存在", at=at(tail[1], 10))
        # Anonymous proposers answer through their receipts; one is kept for the demo.
        held = [o for o in Opinion.objects.filter(pk__in=self.receipts).select_related("problem")
                if o.problem and o.problem.state in lifecycle.VERIFIED_RESOLVED]
        held.sort(key=lambda o: o.received_on)
        self.demo_receipt = None
        if held:
            self.demo_receipt = self.receipts[held[0].pk]
            for o in held[1:]:
                holder = redeem(self.receipts[o.pk])
                problem_actions.record_followup(o, actor=holder, channel=FollowUp.Channel.RECEIPT,
                                  outcome="satisfied", at=at(tail[1], 20))

    def contests(self) -> None:
        declined = list(Problem.objects.filter(campaign=self.camp, state=lifecycle.DECLINED)
                        .order_by("pk")[:2])
        for prob in declined:
            author = prob.opinions.filter(anonymous=False).first()
            if author is None:
                continue
            problem_actions.contest(prob, actor=author.author, at=at(dt.date(1958, 1, 22), 18),
                      reason="这件事本厂自己就能解决，不必等上级")
            problem_actions.assign(prob, actor=self.clerks[0], owner=prob.owner, unit=prob.unit,
                     measures="厂里先自行解决", deadline=dt.date(1958, 2, 28),
                     at=at(dt.date(1958, 1, 23), 9))

    def run(self) -> Result:
        self.say("The plant, its units and people…")
        self.plant()
        self.say("Opinions aired in 1957 (8,000) and years before…")
        plans = self.plan_problems()
        self.opinions(plans)
        old = self.old_problems()
        self.say("Summarising into problems, and the autumn's claims…")
        self.summarise(plans)
        self.declines(plans)
        claimed = self.choose_claimed(plans, old)
        verified, _closed = self.autumn(plans, claimed)
        self.say("The review round, 1958-01-16 to 01-20…")
        fail = self.review_round(plans, claimed, verified)
        self.say("Re-rectification and home visits, 01-21 to 01-27…")
        self.after(plans, fail, claimed - fail, old, claimed)
        self.say("The furnaces and their heat log, 1957-10 to 1958-01-28…")
        from zhenggai.demo import production

        self.production = production.build(self.org, self.units, DEMO_PASSWORD)
        return Result(org=self.org, campaign=self.camp, receipt=self.demo_receipt,
                      counts={"claimed": len(claimed), "failed": len(fail)})


def build(progress=None) -> Result:
    """Build the replay, each action in its own transaction as in real use.

    (One transaction around all of it would make PostgreSQL keep every version of the
    figure rows it updates thousands of times.) The organisation is renamed to its real
    name only at the end, so that a replay that failed half-way is never taken for one.
    """
    if Organisation.objects.filter(name=BUILDING).exists():
        raise RuntimeError("A replay that failed half-way is in this database; start from an "
                           "empty one (remove the data folder or drop the database).")
    from zhenggai.notifications.events import silenced

    with silenced():  # 1957's events are history: nobody is told of them now
        result = _Builder(progress).run()
    # The demo's clock stands at the report's day: every page, figure and deadline reads it.
    Organisation.objects.filter(pk=result.org.pk).update(name=ORG_NAME, clock_day=REPORT)
    result.org.name, result.org.clock_day = ORG_NAME, REPORT
    _save_demo_receipt(result.receipt)
    # Book the opinions taken in, as the worker would: figure reads add a queue in memory,
    # and the demo should not start with thousands of opinions in it.
    book_pending()
    return result


def receipt_file():
    return settings.DATA_DIR / "demo-receipt.txt"


def _save_demo_receipt(code: str | None) -> None:
    # Only for the demo: a real receipt is shown once and never kept anywhere.
    if code:
        settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
        receipt_file().write_text(code + "\n")
