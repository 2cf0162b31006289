import monitoring.admin_alerts  # noqa: F401
import monitoring.admin_monitoring  # noqa: F401
import monitoring.admin_partitions  # noqa: F401
