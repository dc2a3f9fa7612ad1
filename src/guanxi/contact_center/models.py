"""The contact centre's models live in one module per channel (email_models, chat_models, ...), imported here."""

from .call_models import AgentPhone, Call, CallEventLog, PbxConnection  # noqa: F401
from .chat_models import ChatConversation, ChatMessage, ChatSite, PageView, Visitor  # noqa: F401
from .email_kb_models import EmailAutoResponse, KnowledgeSuggestion  # noqa: F401
from .email_models import EmailAttachment, InboundEmail, Mailbox, OutboundEmail  # noqa: F401
from .form_models import FormSubmission, WebForm  # noqa: F401
from .lead_link_models import LeadConversation  # noqa: F401
