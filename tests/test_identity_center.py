"""Identity Center access: one user per contact, existing users reused, each group on its own account only."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from securebase.components.identity_center import MANAGED_USER_TYPE
from tests.support import ACCOUNT, bundled_accounts, make_project
from tests.support_baseline import (
    ASSIGNMENT,
    GROUP,
    IDENTITY_STORE_ID,
    INSTANCE_ARN,
    MEMBERSHIP,
    PERMISSION_SET,
    USER,
    BaselineRun,
    FakeIdentityOrganization,
    run_baseline,
)

TIERS = [("fintech", "soc2"), ("healthcare", "hipaa"), ("gov-federal", "fedramp-moderate")]



def is_lock_reminder(message: str) -> bool:
    """Tell the reminder to lock new customers, which every project here without a lock gets."""
    return "run `securebase lock`" in message

def many_customers(count: int) -> dict[str, dict[str, Any]]:
    """Return `count` new customers spread over the three tiers, contact i at contact-i@customer-i.example."""
    customers = {}
    for index in range(count):
        tier, framework = TIERS[index % len(TIERS)]
        customers[f"customer-{index:03d}"] = {
            "name": f"Customer {index:03d}",
            "tier": tier,
            "framework": framework,
            "prefix": f"c{index:03d}",
            "contact_email": f"contact-{index}@customer-{index}.example",
        }
    return customers


def resources_by_customer(result: BaselineRun, type_token: str, suffix: str) -> dict[str, Any]:
    """Return the Identity Center resources of one type keyed by customer key (from the resource name)."""
    found = {}
    for resource in result.run.of_type(type_token):
        key = resource.name.removeprefix("identity-center-").removesuffix(suffix)
        found[key] = resource
    return found


def assert_assignments_isolated(result: BaselineRun) -> None:
    """Check that each customer's group is assigned to its own account and nothing else is."""
    accounts = {account.name.removesuffix("-account"): account.id for account in result.run.of_type(ACCOUNT)}
    groups = resources_by_customer(result, GROUP, "-group")
    group_owner = {group.outputs["groupId"]: key for key, group in groups.items()}
    assignments = result.run.of_type(ASSIGNMENT)
    assert len(assignments) == len(accounts)
    per_account: Counter[str] = Counter()
    for assignment in assignments:
        key = assignment.name.removeprefix("identity-center-").removesuffix("-assignment")
        owner = group_owner[assignment.inputs["principalId"]]
        assert owner == key, f"{assignment.urn}: group of {owner} in the assignment for {key}"
        assert assignment.inputs["principalType"] == "GROUP"
        assert assignment.inputs["targetType"] == "AWS_ACCOUNT"
        assert assignment.inputs["targetId"] == accounts[key], f"{assignment.urn}: wrong account for {key}"
        per_account[assignment.inputs["targetId"]] += 1
    assert set(per_account.values()) == {1}, per_account


@pytest.fixture(scope="module")
def bundled(tmp_path_factory) -> BaselineRun:
    project = make_project(tmp_path_factory.mktemp("bundled"))
    return run_baseline(project, FakeIdentityOrganization(accounts=bundled_accounts()))


def test_assignments_never_cross_customers(bundled):
    assert_assignments_isolated(bundled)


def test_membership_joins_user_and_group(bundled):
    users = resources_by_customer(bundled, USER, "-user")
    groups = resources_by_customer(bundled, GROUP, "-group")
    memberships = resources_by_customer(bundled, MEMBERSHIP, "-membership")
    assert set(memberships) == set(users) == set(groups)
    for key, membership in memberships.items():
        assert membership.inputs["memberId"] == users[key].outputs["userId"], key
        assert membership.inputs["groupId"] == groups[key].outputs["groupId"], key
        assert membership.inputs["identityStoreId"] == IDENTITY_STORE_ID


def test_new_user_named_by_lowercase_email(tmp_path):
    customers = many_customers(1)
    customers["customer-000"]["contact_email"] = "Jane.Roe@Customer-0.example"
    result = run_baseline(make_project(tmp_path, customers), FakeIdentityOrganization())
    user = result.run.named("identity-center-customer-000-user")
    assert user.inputs["userName"] == "jane.roe@customer-0.example"
    assert user.inputs["emails"]["value"] == "jane.roe@customer-0.example"
    assert user.import_id == ""


def test_permission_set_per_tier_read_only(bundled):
    permission_sets = {ps.inputs["name"]: ps for ps in bundled.run.of_type(PERMISSION_SET)}
    assert set(permission_sets) == {"SecureBase-fintech", "SecureBase-healthcare", "SecureBase-gov-federal"}
    for permission_set in permission_sets.values():
        assert permission_set.inputs["sessionDuration"] == "PT1H"
        assert permission_set.inputs["instanceArn"] == INSTANCE_ARN
    attachments = bundled.run.of_type("aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment")
    policies = Counter(attachment.inputs["managedPolicyArn"] for attachment in attachments)
    assert policies == {
        "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess": 3,
        "arn:aws:iam::aws:policy/SecurityAudit": 3,
    }


def test_assignment_waits_for_policies(bundled):
    assignment = bundled.run.named("identity-center-medicorp-health-assignment")
    for policy in ("ViewOnlyAccess", "SecurityAudit"):
        attachment = bundled.run.named(f"identity-center-healthcare-{policy}")
        assert attachment.urn in assignment.all_dependencies, policy


def test_session_duration_setting(tmp_path):
    result = run_baseline(make_project(tmp_path), accessSessionDuration="PT8H")
    for permission_set in result.run.of_type(PERMISSION_SET):
        assert permission_set.inputs["sessionDuration"] == "PT8H"


def test_sixty_customers_five_existing_users(tmp_path):
    customers = many_customers(60)
    # Two customer files spell the contact in mixed case; the store contains the lowercase name.
    customers["customer-007"]["contact_email"] = "Contact-7@Customer-7.example"
    customers["customer-021"]["contact_email"] = "CONTACT-21@customer-21.example"
    existing = {
        "contact-3@customer-3.example": "u-existing-3",
        "contact-7@customer-7.example": "u-existing-7",
        "contact-12@customer-12.example": "u-existing-12",
        "contact-21@customer-21.example": "u-existing-21",
        # This user's stored name is mixed case while the file is lowercase.
        "Contact-44@Customer-44.example": "u-existing-44",
    }
    org = FakeIdentityOrganization(users=dict(existing))
    result = run_baseline(make_project(tmp_path, customers), org)

    users = result.run.of_type(USER)
    assert len(users) == 60
    folded = Counter(user.inputs["userName"].lower() for user in users)
    assert max(folded.values()) == 1, [name for name, count in folded.items() if count > 1]
    adopted = {user.name: user.import_id for user in users if user.import_id}
    assert adopted == {
        "identity-center-customer-003-user": f"{IDENTITY_STORE_ID}/u-existing-3",
        "identity-center-customer-007-user": f"{IDENTITY_STORE_ID}/u-existing-7",
        "identity-center-customer-012-user": f"{IDENTITY_STORE_ID}/u-existing-12",
        "identity-center-customer-021-user": f"{IDENTITY_STORE_ID}/u-existing-21",
        "identity-center-customer-044-user": f"{IDENTITY_STORE_ID}/u-existing-44",
    }
    for user in users:
        if user.import_id:
            # Adopted users keep their stored spelling, so the import matches the live user.
            assert user.inputs["userName"] in existing, user.urn
            assert user.retain_on_delete is True, user.urn
            assert user.inputs.get("userType", "") == "", user.urn
        else:
            assert user.inputs["userName"] not in {name.lower() for name in existing}, user.urn
            assert user.inputs["userType"] == MANAGED_USER_TYPE, user.urn
    assert result.run.outputs["securityBaseline"]["customers"]["customer-044"]["contactUserAdopted"] is True
    assert_assignments_isolated(result)
    assert not [
        message
        for severity, message in result.run.logs
        if severity in ("warning", "error") and not is_lock_reminder(message)
    ]
    # One listing covers every contact that no exact lookup found.
    assert org.calls.count("getUsers") == 1


def test_existing_users_differing_in_case(tmp_path):
    customers = many_customers(1)
    customers["customer-000"]["contact_email"] = "Pat.Lee@Customer-0.example"
    org = FakeIdentityOrganization(
        users={"pat.lee@customer-0.example": "u-lower", "Pat.Lee@Customer-0.example": "u-mixed"}
    )
    result = run_baseline(make_project(tmp_path, customers), org)
    users = result.run.of_type(USER)
    assert len(users) == 1
    assert users[0].import_id == f"{IDENTITY_STORE_ID}/u-lower"
    assert "getUsers" not in org.calls


def test_listed_duplicates_pick_one_and_warn(tmp_path):
    customers = many_customers(1)
    customers["customer-000"]["contact_email"] = "pat.lee@customer-0.example"
    org = FakeIdentityOrganization(
        users={"PAT.LEE@customer-0.example": "u-upper", "Pat.Lee@Customer-0.example": "u-mixed"}
    )
    result = run_baseline(make_project(tmp_path, customers), org)
    users = result.run.of_type(USER)
    assert len(users) == 1
    # Sorted by user name, "PAT..." comes before "Pat...", on every run.
    assert users[0].import_id == f"{IDENTITY_STORE_ID}/u-upper"
    warnings = [
        message for severity, message in result.run.logs if severity == "warning" and not is_lock_reminder(message)
    ]
    assert len(warnings) == 1
    assert "2 users named pat.lee@customer-0.example" in warnings[0]
    assert "u-mixed" in warnings[0]


def test_second_run_keeps_created_users(tmp_path):
    customers = many_customers(3)
    project = make_project(tmp_path, customers)
    first = run_baseline(project, FakeIdentityOrganization())
    created = {user.inputs["userName"]: user.outputs["userId"] for user in first.run.of_type(USER)}
    for user in first.run.of_type(USER):
        assert user.inputs["userType"] == MANAGED_USER_TYPE, user.urn

    second = run_baseline(project, FakeIdentityOrganization(users=created, managed_users=set(created)))
    users = second.run.of_type(USER)
    assert len(users) == 3
    for user in users:
        assert user.import_id == f"{IDENTITY_STORE_ID}/{created[user.inputs['userName']]}", user.urn
        # Created by SecureBase, so not adopted: deleted with the customer, not retained.
        assert user.retain_on_delete is False, user.urn
        assert user.inputs["userType"] == MANAGED_USER_TYPE, user.urn
    outputs = second.run.outputs["securityBaseline"]["customers"]
    assert [outputs[key]["contactUserAdopted"] for key in sorted(outputs)] == [False, False, False]


def test_missing_instance_is_reported(tmp_path):
    org = FakeIdentityOrganization(accounts=bundled_accounts(), instances=[])
    with pytest.raises(Exception, match=r"IAM Identity Center has no instance.*securebase:identityCenterInstanceArn"):
        run_baseline(make_project(tmp_path), org)


def test_configured_instance_skips_lookup(tmp_path):
    org = FakeIdentityOrganization(accounts=bundled_accounts(), instances=[])
    result = run_baseline(
        make_project(tmp_path), org, identityCenterInstanceArn=INSTANCE_ARN, identityStoreId=IDENTITY_STORE_ID
    )
    assert "getInstances" not in org.calls
    assert len(result.run.of_type(ASSIGNMENT)) == 3


def test_instance_settings_go_together(tmp_path):
    with pytest.raises(Exception, match=r"must be set together"):
        run_baseline(make_project(tmp_path), identityStoreId=IDENTITY_STORE_ID)


class FailingLookupOrganization(FakeIdentityOrganization):
    """An identity store whose user lookups are denied."""

    def call(self, args):
        if args.token == "aws:identitystore/getUser:getUser":
            return {}, [("", "AccessDeniedException: not authorized to perform identitystore:GetUserId")]
        return super().call(args)


def test_failed_lookup_is_not_treated_as_missing(tmp_path):
    org = FailingLookupOrganization(accounts=bundled_accounts())
    with pytest.raises(Exception, match=r"failed to look up Identity Center user .*AccessDeniedException"):
        run_baseline(make_project(tmp_path), org)
