from rest_framework.response import Response
from rest_framework.views import APIView


class DeployView(APIView):
    """Only a token with this project's own `deploy` scope (or a browser session) gets in."""

    required_scopes = ["deploy"]

    def post(self, request):
        return Response({"deployed_by": request.user.email}, status=202)
