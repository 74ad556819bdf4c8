from django.core.exceptions import ValidationError


class JobRefused(ValidationError):
    """The work cannot be done as asked (a guard blocks it, the data is not there): the job fails with this
    message, which says what to do; retrying does not help until that is done."""
