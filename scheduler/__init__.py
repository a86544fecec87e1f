"""The homecare domain: plans, rosters, loading and validation.

This package imports no OR-Tools, OSMnx, web or database code, and nothing from
``solver``, ``api`` or the command line (:mod:`homecare_cli`).
"""

from scheduler.errors import (
    ConfigError as ConfigError,
    NetworkError as NetworkError,
    PlanError as PlanError,
    Problem as Problem,
    SchedulerError as SchedulerError,
    SolverError as SolverError,
)
from scheduler.io import load_plan as load_plan, load_roster as load_roster, write_roster as write_roster
from scheduler.model import (
    Client as Client,
    Location as Location,
    Plan as Plan,
    Provider as Provider,
    TimeWindow as TimeWindow,
    Visit as Visit,
    Worker as Worker,
)
from scheduler.roster import Kpis as Kpis, Roster as Roster, Route as Route, Stop as Stop, Unassigned as Unassigned
from scheduler.validate import Violation as Violation, check_roster as check_roster, validate_plan as validate_plan

__version__ = "0.1.0"
