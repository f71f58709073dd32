"""End-to-end runs of the built-in services through the SDK against a running node, used by the
integration tests and the demo city.

>>> city = ServiceCity(lambda key: Client(url, key=key), admins={"tax": tax_admin, ...})
>>> prepare_services(city)                 # officers, accreditations, schemas, definitions
>>> result = run_open_restaurant(city, share=share_under_grant)  # a new enterprise, every step
>>> result.met                                                    # the outputs issued
{'credential': 3, 'data': 1, 'upload': 3}
"""

from govchain.scenarios.run import (
    Applicant,
    HeldCredential,
    ScenarioResult,
    ShareData,
    issue_to,
    new_citizen,
    new_enterprise,
    run_newborn_registration,
    run_open_restaurant,
    run_real_estate_registration,
    run_residence_permit,
    run_resume_production,
    run_service,
    run_sme_loan,
)
from govchain.scenarios.setup import ServiceCity, prepare_services, run_round
from govchain.scenarios.sharing import share_under_grant

__all__ = [
    "SCENARIOS",
    "Applicant",
    "HeldCredential",
    "ScenarioResult",
    "ServiceCity",
    "ShareData",
    "issue_to",
    "new_citizen",
    "new_enterprise",
    "prepare_services",
    "run_newborn_registration",
    "run_open_restaurant",
    "run_real_estate_registration",
    "run_residence_permit",
    "run_resume_production",
    "run_round",
    "run_service",
    "run_sme_loan",
    "share_under_grant",
]

SCENARIOS = {
    "open-restaurant": run_open_restaurant,
    "resume-production": run_resume_production,
    "real-estate-registration": run_real_estate_registration,
    "sme-loan": run_sme_loan,
    "newborn-registration": run_newborn_registration,
    "residence-permit": run_residence_permit,
}
