"""All models, importable from one place."""
from models.base import db
from models.customer import Customer, CustomerKind
from models.office import Notification
from models.org import DataScope, Department, Role, User
from models.system import AuditLog, LoginLog, PeriodicRun

__all__ = [
    "db", "AuditLog", "Customer", "CustomerKind", "DataScope", "Department", "LoginLog",
    "Notification", "PeriodicRun", "Role", "User",
]
