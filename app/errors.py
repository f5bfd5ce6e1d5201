"""The one DomainError tree.

Every refusal the service makes is an instance of a class below. Each class names its rule
(a stable slug that becomes the RFC 9457 problem ``type`` URI) and its category: what kind of
refusal it is, never how a transport spells it. The HTTP edge maps categories to statuses and
renders problems in exactly one place (``app/api/problems.py``); nothing else builds error
responses.
"""

from __future__ import annotations

from collections.abc import Container, Mapping, Sequence
from enum import StrEnum
from typing import Any, ClassVar, Self


class Category(StrEnum):
    """What kind of refusal an error is."""

    INVALID_INPUT = "invalid_input"
    """A value is wrong in itself (missing, ill-formed, out of range)."""
    MALFORMED = "malformed"
    """The request cannot be read at all (not JSON)."""
    TOO_LARGE = "too_large"
    NOT_FOUND = "not_found"
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    """The caller is known but may not do this."""
    CONFLICT = "conflict"
    """The request contradicts what the log already holds (idempotency, versions)."""
    RULE_VIOLATION = "rule_violation"
    """A life-cycle rule forbids this in the current state."""
    UNAVAILABLE = "unavailable"
    """The service cannot do it now (its database is unreachable); a retry may succeed."""
    GONE = "gone"
    """The thing existed and was destroyed for good (a crypto-shredded identity)."""


class DomainError(Exception):
    """Base of every refusal. Subclasses set ``rule``, ``category`` and ``title``."""

    rule: ClassVar[str] = "domain-error"
    category: ClassVar[Category] = Category.CONFLICT
    title: ClassVar[str] = "The request was refused"

    def __init__(self, detail: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.extra = extra


# --- request shape -------------------------------------------------------------------------


class InvalidInput(DomainError):
    """The request is well-formed JSON but a field is missing or has the wrong form."""

    rule = "invalid-input"
    category = Category.INVALID_INPUT
    title = "Invalid input"

    @classmethod
    def from_validation(
        cls, details: Sequence[Mapping[str, Any]], /, *, prefix: Sequence[str] = (),
        hide: Container[object] = (), **extra: Any,
    ) -> Self:
        """The first of pydantic's error ``details`` (``ValidationError.errors()``) as this
        refusal, naming its field: ``prefix`` first, then the error's location without the
        parts in ``hide`` (FastAPI's ``body``/``query``/``path``, which are not fields)."""
        first = details[0] if details else {}
        field = ".".join([*prefix, *(str(p) for p in first.get("loc", ()) if p not in hide)])
        message = str(first.get("msg", "invalid input"))
        return cls(f"{field}: {message}" if field else message, field=field or None, **extra)


class MalformedRequest(DomainError):
    rule = "malformed-request"
    category = Category.MALFORMED
    title = "Malformed request"


class FloatNotAllowed(InvalidInput):
    rule = "float-not-allowed"
    title = "Floating-point numbers are not allowed; use integers or strings"


class PayloadTooLarge(DomainError):
    rule = "payload-too-large"
    category = Category.TOO_LARGE
    title = "Request body too large"


class UnknownEventType(InvalidInput):
    rule = "unknown-event-type"
    title = "Unknown event type"


class NotFound(DomainError):
    rule = "not-found"
    category = Category.NOT_FOUND
    title = "Not found"


# --- auth ----------------------------------------------------------------------------------


class Unauthenticated(DomainError):
    rule = "unauthenticated"
    category = Category.UNAUTHENTICATED
    title = "A valid API key is required"


class Forbidden(DomainError):
    rule = "forbidden"
    category = Category.FORBIDDEN
    title = "This key may not do that"


class RoleNotAllowed(Forbidden):
    rule = "role-not-allowed"
    title = "The key's role may not record this event type"


class SiteScopeViolation(Forbidden):
    rule = "site-scope"
    title = "A key acts only for its own site"


# --- the log -------------------------------------------------------------------------------


class Conflict(DomainError):
    rule = "conflict"
    category = Category.CONFLICT
    title = "Conflict"


class IdempotencyConflict(Conflict):
    rule = "event-id-reused"
    title = "This event_id is already used"


class WrongExpectedVersion(Conflict):
    rule = "wrong-expected-version"
    title = "The stream is not at the expected version"


class Unavailable(DomainError):
    rule = "unavailable"
    category = Category.UNAVAILABLE
    title = "The service cannot reach its database"


# --- domain rules (app/events) ---------------------------------------------------------------
# The life-cycle rules subclass RuleViolation (the state forbids it) or InvalidInput (the
# value is wrong in itself). Each names its own rule slug.


class RuleViolation(DomainError):
    rule = "rule-violation"
    category = Category.RULE_VIOLATION
    title = "A life-cycle rule forbids this"


# --- life-cycle rules (issue 3) ---
# Raised by app/events. Grouped as: bad values (invalid input), unknown things (not found),
# who may act (forbidden), and what the current state forbids (rule violation).


class InvalidDin(InvalidInput):
    rule = "invalid-din"
    title = "Malformed donation identification number"


class DinCheckCharacter(InvalidInput):
    rule = "din-check-character"
    title = "Wrong DIN check character (ISO 7064 Mod 37-2)"


class InvalidProductCode(InvalidInput):
    rule = "invalid-product-code"
    title = "Malformed ISBT 128 product code"


class InvalidUnitId(InvalidInput):
    rule = "invalid-unit-id"
    title = "Malformed unit id (DIN-product code)"


class UnknownBloodGroup(InvalidInput):
    rule = "unknown-blood-group"
    title = "Unknown ABO or RhD blood group"


class InvalidEventData(InvalidInput):
    rule = "invalid-event-data"
    title = "The event data does not match its schema"


class NotPseudonymous(InvalidInput):
    rule = "not-pseudonymous"
    title = "Donor and patient ids must be pseudonyms, never names or national ids"


class CategoryMismatch(InvalidInput):
    rule = "category-mismatch"
    title = "The component category does not fit the collection type"


class ExpiryBeyondShelfLife(InvalidInput):
    rule = "expiry-beyond-shelf-life"
    title = "An expiry may shorten the catalogue's shelf life, never extend it"


class EmergencyDetailsMissing(InvalidInput):
    rule = "emergency-details-missing"
    title = "An emergency issue needs a justification and a physician_id"


class SiteNotFound(NotFound):
    rule = "site-not-found"
    title = "The site is not registered"


class DonorNotFound(NotFound):
    rule = "donor-not-found"
    title = "The donor is not registered"


class DonationNotFound(NotFound):
    rule = "donation-not-found"
    title = "No donation with this DIN was collected"


class UnitNotFound(NotFound):
    rule = "unit-not-found"
    title = "The unit does not exist"


class LookbackNotFound(NotFound):
    rule = "lookback-not-found"
    title = "The lookback does not exist"


class NotCustodian(Forbidden):
    rule = "not-custodian"
    title = "Only the unit's custodian site may act on it"


class NotDestination(Forbidden):
    rule = "not-destination"
    title = "Only the destination of the shipment may receive the unit"


class AlreadyExists(RuleViolation):
    rule = "already-exists"
    title = "It is already registered"


class DinAlreadyCollected(RuleViolation):
    rule = "din-already-collected"
    title = "A DIN may be collected only once"


class SiteKindNotAllowed(RuleViolation):
    rule = "site-kind-not-allowed"
    title = "This kind of site may not do that"


class DonorDeferredError(RuleViolation):
    rule = "donor-deferred"
    title = "The donor is deferred"


class DonationIntervalTooShort(RuleViolation):
    rule = "donation-interval"
    title = "The minimum interval since the donor's last donation has not passed"


class DonorNotDeferred(RuleViolation):
    rule = "donor-not-deferred"
    title = "The donor is not deferred"


class UnitConsumed(RuleViolation):
    rule = "unit-consumed"
    title = "The unit was consumed by a split or a pool"


class FinalFate(RuleViolation):
    rule = "final-fate"
    title = "The unit met its final fate; only annotations may follow"


class UnitInTransit(RuleViolation):
    rule = "unit-in-transit"
    title = "The unit is in transit; only its receipt by the destination may follow"


class UnitNotInTransit(RuleViolation):
    rule = "unit-not-in-transit"
    title = "The unit is not in transit"


class ShipmentMismatch(RuleViolation):
    rule = "shipment-mismatch"
    title = "The shipment id does not match the unit's shipment"


class ShipmentToSelf(RuleViolation):
    rule = "shipment-to-self"
    title = "A unit cannot be shipped to the site that holds it"


class ComponentExists(RuleViolation):
    rule = "component-exists"
    title = "A unit with this DIN and product code already exists"


class VolumeExceeded(RuleViolation):
    rule = "volume-exceeded"
    title = "The components' volume exceeds the parent's"


class PoolCategoryMismatch(RuleViolation):
    rule = "pool-category-mismatch"
    title = "Pooled units must all be of the pool's category"


class PoolMixedGroups(RuleViolation):
    rule = "pool-mixed-groups"
    title = "Pooled units must share one ABO/RhD group"


class UnitQuarantinedError(RuleViolation):
    rule = "unit-quarantined"
    title = "The unit is quarantined"


class UnitNotQuarantined(RuleViolation):
    rule = "unit-not-quarantined"
    title = "The unit is not quarantined"


class UnitAlreadyReleased(RuleViolation):
    rule = "unit-already-released"
    title = "The unit is already released"


class UnitNotReleased(RuleViolation):
    rule = "unit-not-released"
    title = "The unit is not released"


class TestsIncomplete(RuleViolation):
    __test__ = False  # not a pytest class, despite the name
    rule = "tests-incomplete"
    title = "Every mandatory marker must be non-reactive and ABO/RhD determined"


class ReactiveMarker(RuleViolation):
    rule = "reactive-marker"
    title = "A mandatory marker of the donation is reactive"


class GroupDiscrepancy(RuleViolation):
    rule = "group-discrepancy"
    title = "The ABO/RhD result disagrees with an earlier one for this donation"


class UnitExpired(RuleViolation):
    rule = "unit-expired"
    title = "The unit is expired"


class UnitReservedError(RuleViolation):
    rule = "unit-reserved"
    title = "The unit is reserved or issued for a patient"


class UnitNotReserved(RuleViolation):
    rule = "unit-not-reserved"
    title = "The unit is not reserved for this patient"


class CrossmatchIncompatible(RuleViolation):
    rule = "crossmatch-incompatible"
    title = "An incompatible crossmatch cannot reserve the unit"


class AboIncompatible(RuleViolation):
    rule = "abo-incompatible"
    title = "The unit is not ABO/RhD compatible with the patient"


class UnitIssuedError(RuleViolation):
    rule = "unit-issued"
    title = "The unit is issued to a patient"


class UnitNotIssued(RuleViolation):
    rule = "unit-not-issued"
    title = "The unit is not issued"


class WrongPatient(RuleViolation):
    rule = "wrong-patient"
    title = "The unit is reserved, issued or transfused for another patient"


class EmergencyProductNotAllowed(RuleViolation):
    rule = "emergency-product-not-allowed"
    title = ("Uncrossmatched emergency issue covers group O red cells (O NEG when the group is "
             "unknown), AB plasma (or A when the catalogue allows), platelets, and "
             "group-specific components when the patient's group is known")


class ReturnWindowExceeded(RuleViolation):
    rule = "return-window-exceeded"
    title = "The return window has passed; discard the unit as returned_late"


class NotTransfused(RuleViolation):
    rule = "not-transfused"
    title = "An adverse reaction needs a transfusion of this unit to this patient, started"


class FractionationPlasmaOnly(RuleViolation):
    rule = "fractionation-plasma-only"
    title = "Only plasma may be shipped for fractionation"


class StorageSiteMismatch(RuleViolation):
    rule = "storage-site"
    title = "A unit is stored only at its custodian's site"


class DiscardReasonMismatch(RuleViolation):
    rule = "discard-reason-mismatch"
    title = "The discard reason does not fit the unit's state"


class LookbackUnitUnknown(RuleViolation):
    rule = "lookback-unit-unknown"
    title = "The unit is not part of this lookback"


class LookbackAlreadyAcknowledged(RuleViolation):
    rule = "lookback-already-acknowledged"
    title = "This site already acknowledged the unit in this lookback"


class LookbackSiteMismatch(RuleViolation):
    rule = "lookback-site-mismatch"
    title = "Only the site that holds or transfused the unit may acknowledge it"


# --- verifiable log (issue 6) ---
# Raised by app/log (proofs, checkpoints, export) and rendered like every other DomainError.


class InvalidProofRequest(InvalidInput):
    rule = "invalid-proof-request"
    title = "No such proof can exist (check the position and tree sizes)"


class ProofUnavailable(NotFound):
    rule = "proof-unavailable"
    title = "The log is not that large yet"


class NoCheckpoint(NotFound):
    rule = "no-checkpoint"
    title = "No signed checkpoint covers this yet"


class ExportRangeError(InvalidInput):
    rule = "export-range"
    title = "Nothing to export in this range"


# --- blood-safety rules v1.1 (RULES.md §1-3, §8) ---


class OccurredInFuture(InvalidInput):
    rule = "occurred-in-future"
    title = "A step cannot be dated after the server clock (beyond the allowed skew)"


class LateEntryReasonRequired(InvalidInput):
    rule = "late-entry-reason-required"
    title = "A step dated before the late-entry bound needs a late_entry_reason"


class OutOfOrder(RuleViolation):
    rule = "out-of-order"
    title = "A step cannot be dated before the previous step of the same unit or donor"


class UnknownMarker(InvalidInput):
    rule = "unknown-marker"
    title = "The marker is not in the catalogue"


class GroupUndetermined(RuleViolation):
    rule = "group-undetermined"
    title = "ABO/RhD is not determined, or an open discrepancy leaves it undetermined"


class HoldIdRequired(InvalidInput):
    rule = "hold-id-required"
    title = "The unit has several open holds: name the hold_id to lift"


class HoldNotFound(NotFound):
    rule = "hold-not-found"
    title = "The unit has no open hold with this hold_id"


class HoldCauseDerived(InvalidInput):
    rule = "hold-cause-derived"
    title = "Holds of this cause are placed by the rules themselves, never asked for"


class HoldLiftNotAllowed(Forbidden):
    rule = "hold-lift-not-allowed"
    title = "Only a blood bank's processing key (or an admin) lifts a hold of this cause"


class HoldUnresolved(RuleViolation):
    rule = "hold-unresolved"
    title = "The hold's cause is not resolved (its marker or group is still open)"


class DeferralIdRequired(InvalidInput):
    rule = "deferral-id-required"
    title = "The donor has several active deferrals: name the deferral_id to end"


class DeferralNotFound(NotFound):
    rule = "deferral-not-found"
    title = "The donor has no deferral with this deferral_id"


class ConfirmatoryNegativeRequired(RuleViolation):
    rule = "confirmatory-negative-required"
    title = "A deferral for an infectious marker ends only after a confirmatory negative"


class LookbackClosed(RuleViolation):
    rule = "lookback-closed"
    title = "The lookback is closed"


class LookbackRecipientMismatch(RuleViolation):
    rule = "lookback-recipient-mismatch"
    title = "The unit of this lookback did not go to this patient"


class LookbackAlreadyNotified(RuleViolation):
    rule = "lookback-already-notified"
    title = "This recipient was already notified for this unit"


class LookbackItemsOpen(RuleViolation):
    rule = "lookback-items-open"
    title = "Recipients of this lookback are not all notified yet"


# --- security hardening (issue 20) ---


class LabNotServing(Forbidden):
    rule = "lab-not-serving"
    title = "This lab does not test the donations of that collection site"


class LookbackOutOfScope(Forbidden):
    rule = "lookback-out-of-scope"
    title = "A lookback is started by the blood establishment that collected the donation"


class DonorOutOfScope(Forbidden):
    rule = "donor-out-of-scope"
    title = "Information about a donor is recorded by the blood establishment that collected"


class ShipmentNotAllowed(RuleViolation):
    rule = "shipment-not-allowed"
    title = "This unit may not be shipped to that kind of site"


# --- donors, products and the cold chain (issue 13) ---


class DonorScreeningRequired(RuleViolation):
    rule = "donor-screening-required"
    title = "A collection needs a passing pre-donation screening at the same site just before"


class DonorScreeningFailed(RuleViolation):
    rule = "donor-screening-failed"
    title = "The donor did not pass the pre-donation screening (haemoglobin or health check)"


class AnnualLimitReached(RuleViolation):
    rule = "annual-limit"
    title = "The donor reached the donations (or plasma volume) allowed in 12 months"


class DerivationNotAllowed(RuleViolation):
    rule = "derivation-not-allowed"
    title = "This component cannot be made from that parent"


class ModificationNotAllowed(RuleViolation):
    rule = "modification-not-allowed"
    title = "This modification does not apply to the unit's category"


class IntendedUseMismatch(RuleViolation):
    rule = "intended-use"
    title = "The unit's intended use forbids this step"


# --- patients, issue and transfusion (RULES §7, §8) ----------------------------------------


class PatientGroupDiscordant(RuleViolation):
    rule = "patient-group-discordant"
    title = ("The patient's group determinations disagree (possible wrong blood in tube): no "
             "reservation or issue until a new determination is recorded")


class PatientGroupMismatch(RuleViolation):
    rule = "patient-group-mismatch"
    title = "The group given is not the patient's recorded group"


class TwoSampleRuleNotMet(RuleViolation):
    rule = "two-sample-rule"
    title = ("Non-group-O red cells need two agreeing group determinations from different "
             "samples of the patient")


class ElectronicCrossmatchNotAllowed(RuleViolation):
    rule = "electronic-crossmatch-not-allowed"
    title = ("Electronic crossmatch needs a current sample, two agreeing determinations and "
             "no recorded antibody")


class SampleUnknown(RuleViolation):
    rule = "sample-unknown"
    title = "The sample is not one of the patient's recorded group determinations"


class SampleDiscounted(RuleViolation):
    rule = "sample-discounted"
    title = ("The patient's sample no longer counts: a later determination disagreed with it "
             "(possible wrong blood in tube)")


class SampleTooOld(RuleViolation):
    rule = "sample-too-old"
    title = "The patient's sample is older than the catalogue allows for a crossmatch"


class PatientGroupConflict(RuleViolation):
    rule = "patient-group-conflict"
    title = ("The group given differs from one already given for the patient (its reservation, "
             "or with no recorded group any earlier step): never taken as the new truth")


class RequirementNotMet(RuleViolation):
    rule = "requirement-not-met"
    title = "The unit lacks an attribute the patient requires (irradiated, CMV-negative...)"


class AntiDProphylaxisRequired(RuleViolation):
    rule = "rhd-platelets-need-prophylaxis"
    title = ("RhD-positive platelets for an RhD-negative (or unknown) patient need "
             "anti_d_prophylaxis or an override_reason")


class BedsideCheckFailed(RuleViolation):
    rule = "bedside-check-failed"
    title = "The bedside check needs the wristband and the unit scanned"


class StartWindowExceeded(RuleViolation):
    rule = "start-window-exceeded"
    title = "A transfusion must start within the catalogue's window after issue"


class TransfusionAlreadyStarted(RuleViolation):
    rule = "transfusion-already-started"
    title = "The transfusion of this unit has started"


class TransfusionNotStarted(RuleViolation):
    rule = "transfusion-not-started"
    title = "A unit is transfused only after TransfusionStarted with its bedside check"


class LateCompletionReasonRequired(RuleViolation):
    rule = "late-completion-reason-required"
    title = "A transfusion completed more than 4 h after issue needs late_completion_reason"


class TransfusedVolumeExceeded(InvalidInput):
    rule = "transfused-volume-exceeded"
    title = "More was transfused than the unit holds"


class UnitReturnedLate(RuleViolation):
    rule = "unit-returned-late"
    title = "The unit came back late without a validated cold chain: only discard follows"


class CrossmatchAlreadyRecorded(RuleViolation):
    rule = "crossmatch-already-recorded"
    title = "The follow-up crossmatch of this emergency issue is already recorded"


# --- people: accounts, sessions and electronic signatures (WEB.md §1) ----------------------


class SignInFailed(Unauthenticated):
    rule = "sign-in-failed"
    title = "Unknown user, wrong password or wrong TOTP code"


class AccountLocked(Unauthenticated):
    rule = "account-locked"
    title = "The account is locked after repeated failed sign-ins"


class AccountDisabled(Unauthenticated):
    rule = "account-disabled"
    title = "The account is disabled"


class SessionExpired(Unauthenticated):
    rule = "session-expired"
    title = "The session ended (signed out, or idle too long); sign in again"


class CsrfTokenRequired(Forbidden):
    rule = "csrf-token-required"
    title = "A writing request made with the session cookie must send X-CSRF-Token"


class SignatureRequired(Forbidden):
    rule = "signature-required"
    title = "This step needs the electronic signature of the person doing it"


class MachineCannotSign(Forbidden):
    rule = "machine-cannot-sign"
    title = "An API key is a machine's: only a signed-in person signs a step"


class SignatureInvalid(Forbidden):
    rule = "signature-invalid"
    title = "The password (or TOTP code) given with the signature is wrong"


class SignatureMeaningMismatch(InvalidInput):
    rule = "signature-meaning"
    title = "The signature's meaning is not what this step signs"


class PasswordTooShort(InvalidInput):
    rule = "password-too-short"
    title = "The password is shorter than the minimum length"


class PasswordTooCommon(InvalidInput):
    rule = "password-common"
    title = "The password is on the list of common passwords"


class AccountNotFound(NotFound):
    rule = "account-not-found"
    title = "No such account"


class AccountExists(AlreadyExists):
    rule = "account-exists"
    title = "An account with this user id already exists"
class TileNotFound(NotFound):
    rule = "tile-not-found"
    title = "No such tile in the signed tree"
# --- the donor identity vault (issue 19) ---------------------------------------------------


class VaultKeyMismatch(DomainError):
    """The configured vault master key (or pepper) is not the one the vault was made with:
    the service refuses to start rather than serve an unreadable, silently empty vault."""

    rule = "vault-key-mismatch"
    category = Category.UNAVAILABLE
    title = "The vault master key or pepper does not match this database"


class VaultTampered(DomainError):
    rule = "vault-tampered"
    category = Category.UNAVAILABLE
    title = "A stored identity fails its integrity check"


class DonorIdentityNotFound(NotFound):
    rule = "donor-identity-not-found"
    title = "No identity is held for this donor"


class DonorIdentityShredded(DomainError):
    rule = "donor-identity-shredded"
    category = Category.GONE
    title = "The donor's identity was erased (crypto-shredded) and can never be read again"


class IdentityAccessDenied(Forbidden):
    rule = "identity-access-denied"
    title = "Only collector and processing keys of a blood bank, and admins, read identities"


# --- high availability (issue 18) ---


class OutcomeUnknown(Unavailable):
    """The database went away while a command's commit was under way: it may or may not be
    recorded. Retrying with the same ``event_id`` is safe (it lands once, or answers with
    the first result); the problem carries ``outcome: unknown``."""

    rule = "outcome-unknown"
    title = "The database went away while recording this; retry with the same event_id"
