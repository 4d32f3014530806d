import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# The trail is append-only for every database role, the application's included: an UPDATE or a
# DELETE of an audit row fails in PostgreSQL itself, whatever the code above it does.
FORBID = """
CREATE FUNCTION audit_event_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events cannot be changed or deleted (% on audit_auditevent)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_is_append_only();
"""
ALLOW = """
DROP TRIGGER IF EXISTS audit_event_append_only ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_event_is_append_only();
"""


class Migration(migrations.Migration):
    initial = True

    dependencies = [migrations.swappable_dependency(settings.AUTH_USER_MODEL)]

    operations = [
        migrations.CreateModel(
            name="AuditEvent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("at", models.DateTimeField(auto_now_add=True, db_index=True)),
                ("username", models.CharField(blank=True, help_text="As typed, for failed logins.", max_length=150)),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("read", "Read"),
                            ("create", "Create"),
                            ("update", "Update"),
                            ("delete", "Delete"),
                            ("export", "Export / download"),
                            ("denied", "Access denied (not the owner, or no such record)"),
                            ("login", "Login"),
                            ("login_failed", "Failed login"),
                            ("logout", "Logout"),
                            ("lockout", "Locked out"),
                        ],
                        db_index=True,
                        max_length=16,
                    ),
                ),
                ("object_type", models.CharField(blank=True, max_length=32)),
                ("object_id", models.CharField(blank=True, max_length=64)),
                ("patient_id", models.UUIDField(blank=True, db_index=True, null=True)),
                ("ip", models.GenericIPAddressField(blank=True, null=True)),
                ("path", models.CharField(blank=True, max_length=300)),
                ("detail", models.CharField(blank=True, help_text="What, in words; never PHI.", max_length=300)),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-at", "-id"],
                "indexes": [models.Index(fields=["actor", "at"], name="audit_audit_actor_i_6c9c9e_idx")],
            },
        ),
        migrations.RunSQL(FORBID, ALLOW),
    ]
