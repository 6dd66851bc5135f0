"""announce each new in-app notification on the `ajira_notifications` channel

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# A trigger rather than a NOTIFY in the service: every path that stores an in-app
# notification announces it, and PostgreSQL delivers the announcement only when the
# storing transaction commits (never for a rollback). The payload names the row and its
# recipient, never its text: listeners read the row under the recipient's own scope.
def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION ajira_announce_notification() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify(
                'ajira_notifications',
                json_build_object(
                    'id', NEW.id,
                    'organization_id', NEW.organization_id,
                    'recipient_id', NEW.recipient_id
                )::text
            );
            RETURN NULL;
        END;
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER notifications_announce_in_app
        AFTER INSERT ON notifications
        FOR EACH ROW WHEN (NEW.channel = 'WEB')
        EXECUTE FUNCTION ajira_announce_notification()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS notifications_announce_in_app ON notifications")
    op.execute("DROP FUNCTION IF EXISTS ajira_announce_notification()")
