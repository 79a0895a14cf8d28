"""voice-triage: an offline, voice-driven triage assistant for difficulty lifting a leg.

It names possible causes and an urgency level; it never diagnoses.
"""

__version__ = "0.1.0"
